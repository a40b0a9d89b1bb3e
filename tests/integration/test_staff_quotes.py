"""Quotes for sales on the staff pages: the queue (requested first, oldest first, each linked from its number), a
quote's page with each line's list and contract price beside the price to quote, the answer (a bad price or a past
date beside its field, nothing stored) with or without a hold, what a hold could not cover, and Withdraw; roles:
sales and admin, never warehouse."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shop import sales
from shop.catalog import price_lists
from shop.platform.extensions import db
from shop.sales.models import Quote, QuoteStatus
from tests.support.api import available
from tests.support.factories import make_staff
from tests.support.staff import page_statements, sign_in, text_of
from tests.support.storefront import field_error

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"
TUB = "LEU-USP-1KG"


def _requested(api, lines=((DRUM, 8),)) -> str:
    answer = api.post("/api/v1/quotes", json={"lines": [{"sku": s, "quantity": q} for s, q in lines]})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["number"]


def _answer_form(**fields) -> dict[str, str]:
    return {"unit_prices-0": "1800.00", "valid_until": (price_lists.today() + timedelta(days=14)).isoformat(),
            "note": "Best price this quarter.", **fields}


@pytest.fixture
def seller(app, client):
    sign_in(client, "sales")
    return client


def test_the_queue_lists_requested_quotes_first_oldest_first_each_linked(api, stocked, seller):
    first, second, third = (_requested(api) for _ in range(3))
    sales.answer_quote(first, {0: "1800.00"}, price_lists.today() + timedelta(days=14), "", False,
                       make_staff("admin", email="boss@shop.example"))
    db.session.commit()
    page = seller.get("/staff/quotes")
    assert page.status_code == 200
    assert page.text.index(second) < page.text.index(third) < page.text.index(first)  # the answered one last
    assert f'href="/staff/quotes/{second}"' in page.text
    assert "1,850.00" in page.text  # the drum's list price for 8 (its price break) beside its line
    assert 'href="/staff/quotes"' in page.text  # the navigation's link


def test_a_quote_page_shows_list_and_contract_prices_and_answers_with_a_hold(api, stocked, seller):
    number = _requested(api, [(DRUM, 8), (TUB, 5)])
    page = seller.get(f"/staff/quotes/{number}")
    text = text_of(page.text)
    assert "1,850.00" in text and "96.00" in text  # the list prices of 8 drums (a price break) and of the tub
    assert f'value="{(price_lists.today() + timedelta(days=14)).isoformat()}"' in page.text  # two weeks by default
    assert "Hold the stock" in text
    answered = seller.post(f"/staff/quotes/{number}/answer",
                           data=_answer_form(**{"unit_prices-1": "90.00", "hold": "y"}))
    assert answered.status_code == 303, answered.text
    quote = sales.get_quote(number)
    assert quote.status == QuoteStatus.ANSWERED and quote.hold
    assert [str(line.unit_price) for line in quote.lines] == ["1800.00", "90.00"]
    assert [line.held_quantity for line in quote.lines] == [8, 5]
    assert available(api, DRUM) == 8
    after = text_of(seller.get(f"/staff/quotes/{number}").text)
    assert "8 of 8" in after and "5 of 5" in after


@pytest.mark.parametrize(("fields", "field_id"), [
    ({"unit_prices-0": "1,500"}, "unit_prices-0"),
    ({"unit_prices-0": "0"}, "unit_prices-0"),
    ({"unit_prices-0": "-5"}, "unit_prices-0"),
    ({"valid_until": "2001-01-01"}, "valid_until"),
])
def test_a_bad_answer_shows_beside_its_field_and_changes_nothing(api, stocked, seller, fields, field_id):
    number = _requested(api)
    refused = seller.post(f"/staff/quotes/{number}/answer", data=_answer_form(hold="y", **fields))
    assert refused.status_code == 422
    assert field_error(refused.text, field_id), refused.text
    quote = sales.get_quote(number)
    assert quote.status == QuoteStatus.REQUESTED and quote.lines[0].unit_price is None
    assert available(api, DRUM) == 16


def test_a_hold_short_of_stock_says_what_it_left_unheld(api, stocked, seller):
    number = _requested(api, [(DRUM, 20)])
    answered = seller.post(f"/staff/quotes/{number}/answer", data=_answer_form(hold="y"), follow_redirects=True)
    text = text_of(answered.text)
    assert "16 of 20" in text and "4 not held" in text


def test_withdrawing_gives_the_held_units_back(api, stocked, seller):
    number = _requested(api)
    seller.post(f"/staff/quotes/{number}/answer", data=_answer_form(hold="y"))
    assert available(api, DRUM) == 8
    withdrawn = seller.post(f"/staff/quotes/{number}/withdraw", data={"note": "Price list changes on Monday."})
    assert withdrawn.status_code == 303
    assert db.session.scalar(select(Quote.status).where(Quote.number == number)) == QuoteStatus.WITHDRAWN
    assert available(api, DRUM) == 16
    assert api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "withdrawn"


@pytest.mark.parametrize("role", ["admin", "sales"])
def test_sales_and_admin_may_answer(app, api, stocked, role):
    client = app.test_client()
    sign_in(client, role)
    number = _requested(api)
    assert client.get("/staff/quotes").status_code == 200
    assert client.post(f"/staff/quotes/{number}/answer", data=_answer_form()).status_code == 303


def test_warehouse_may_not_see_or_answer_quotes(app, api, stocked):
    client = app.test_client()
    sign_in(client, "warehouse")
    number = _requested(api)
    assert client.get("/staff/quotes").status_code == 403
    assert client.get(f"/staff/quotes/{number}").status_code == 403
    assert client.post(f"/staff/quotes/{number}/answer", data=_answer_form()).status_code == 403
    assert client.post(f"/staff/quotes/{number}/withdraw", data={}).status_code == 403
    assert 'href="/staff/quotes"' not in client.get("/staff/").text
    assert sales.get_quote(number).status == QuoteStatus.REQUESTED


def test_the_staff_users_page_offers_the_sales_role(app, client):
    sign_in(client, "admin")
    page = client.get("/staff/staff-users").text
    assert 'value="sales"' in page and "<strong>sales</strong>" in page


def test_the_queue_and_a_quote_cost_the_same_statements_for_more_quotes_and_lines(api, stocked, seller):
    number = _requested(api)
    queue_one, quote_one = page_statements(seller, "/staff/quotes"), page_statements(seller, f"/staff/quotes/{number}")
    for _ in range(4):
        _requested(api)
    many = _requested(api, [(DRUM, 8), (TUB, 5)])
    assert page_statements(seller, "/staff/quotes") == queue_one
    assert page_statements(seller, f"/staff/quotes/{many}") == quote_one
