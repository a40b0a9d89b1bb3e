"""Quotes on the storefront: a buyer requests one for the cart's lines or for a pack size of a product page (bad
input beside its field, nothing stored), finds it under My quotes, reads sales' answer (prices, held units, valid
until), and accepts it into an order at those prices, with the address checkout would start from, or declines it."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shop import sales
from shop.catalog import price_lists
from shop.ordering.models import Order
from shop.platform.extensions import db
from shop.sales.models import Quote
from tests.support.factories import make_customer, make_staff
from tests.support.staff import text_of
from tests.support.storefront import CHECKOUT_ADDRESS, field_error, sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


@pytest.fixture
def buyer(app):
    customer = make_customer("buyer@acme.example", "Acme Nutrition")
    client = app.test_client()
    assert sign_in(client, "buyer@acme.example").status_code == 302
    return customer, client


def _quote_count() -> int:
    return db.session.scalar(select(func.count(Quote.id)))


def _request(client, lines: list[tuple[str, int]], **fields):
    data = {"token": "t-1", "min_remaining_shelf_life_days": "", "needed_by": "", "note": "", **fields}
    for i, (sku, quantity) in enumerate(lines):
        data[f"lines-{i}-sku"], data[f"lines-{i}-quantity"] = sku, str(quantity)
    return client.post("/quotes/new", data=data)


def _answered(number: str, price: str = "1800.00", hold: bool = True, days: int = 14) -> None:
    quote = sales.get_quote(number)
    sales.answer_quote(number, {line.position: price for line in quote.lines}, price_lists.today() + timedelta(days),
                       "Held for you.", hold, make_staff("sales"))
    db.session.commit()


def test_a_buyer_requests_a_quote_for_the_carts_lines(buyer, stocked):
    _, client = buyer
    client.post("/cart/add", data={"sku": DRUM, "quantity": "4"})
    cart = client.get("/cart").text
    assert 'href="/quotes/new"' in cart and "Request a quote" in cart
    form = client.get("/quotes/new")
    assert form.status_code == 200
    assert 'name="lines-0-sku"' in form.text and f'value="{DRUM}"' in form.text and 'value="4"' in form.text
    sent = _request(client, [(DRUM, 6)], min_remaining_shelf_life_days="120", needed_by="2099-05-01",
                    note="Six drums, one lot please.")
    assert sent.status_code == 303, sent.text
    number = db.session.scalar(select(Quote.number))
    assert sent.headers["Location"].endswith(f"/quotes/{number}")
    page = text_of(client.get(f"/quotes/{number}").text)
    assert f"Quote {number}" in page and "Requested" in page and "Six drums, one lot please." in page
    quote = sales.get_quote(number)
    assert [(ln.sku, ln.quantity) for ln in quote.lines] == [(DRUM, 6)]
    assert quote.min_remaining_shelf_life_days == 120 and quote.needed_by.isoformat() == "2099-05-01"
    listed = client.get("/quotes")
    assert number in listed.text and 'href="/quotes"' in listed.text  # My quotes, in the navigation
    again = _request(client, [(DRUM, 6)], min_remaining_shelf_life_days="120", needed_by="2099-05-01",
                     note="Six drums, one lot please.")
    assert again.status_code == 303 and _quote_count() == 1  # the same form sent twice: one quote
    other = _request(client, [(DRUM, 9)])  # the same page's token with another request: asked to look again
    assert other.status_code == 409 and _quote_count() == 1


def test_a_product_page_asks_for_a_quote_of_one_pack_size(buyer, stocked):
    _, client = buyer
    product = client.get("/products/l-leucine-usp").text
    assert f'href="/quotes/new?sku={DRUM}"' in product
    form = client.get(f"/quotes/new?sku={DRUM}").text
    assert f'value="{DRUM}"' in form and 'name="lines-0-quantity"' in form
    assert 'name="lines-1-sku"' not in form  # the cart is not part of it
    asked = client.get(f"/quotes/new?sku={DRUM}&quantity=12").text
    assert re.search(r'name="lines-0-quantity"[^>]*value="12"', asked)
    for unread in ("1_2", "\uff11\uff12", "1,2"):  # not guessed at: the pack size's minimum instead
        form = client.get("/quotes/new", query_string={"sku": DRUM, "quantity": unread}).text
        assert re.search(r'name="lines-0-quantity"[^>]*value="1"', form), unread


def test_bad_input_shows_beside_its_field_and_stores_nothing(buyer, stocked):
    _, client = buyer
    past = _request(client, [(DRUM, 0)], needed_by="2001-01-01")
    assert past.status_code == 422
    # Both mistakes at once: the form's (the units) and the service's (a day that has passed), each said once.
    assert field_error(past.text, "line-0-quantity").count("whole number of units") == 1
    assert "passed" in field_error(past.text, "needed_by")
    typed = _request(client, [(DRUM, "1,500")], needed_by="2001-01-01")
    assert field_error(typed.text, "line-0-quantity") and "passed" in field_error(typed.text, "needed_by")
    assert _quote_count() == 0
    late = _request(client, [(DRUM, 2)], needed_by="2001-01-01")
    assert late.status_code == 422 and "passed" in field_error(late.text, "needed_by")
    unknown = _request(client, [("LEU-NOPE-25KG", 2)])
    assert unknown.status_code == 422 and field_error(unknown.text, "line-0-quantity")
    assert _quote_count() == 0


def test_an_answered_quote_shows_its_prices_and_held_units_and_is_accepted_into_an_order(buyer, stocked):
    _, client = buyer
    _request(client, [(DRUM, 8)])
    number = db.session.scalar(select(Quote.number))
    _answered(number)
    page = client.get(f"/quotes/{number}").text
    text = text_of(page)
    assert "1,800.00" in text and "14,400.00" in text and "8 of 8" in text and "Held for you." in text
    assert "Accept and place the order" in page and "Decline the quote" in page
    accepted = client.post(f"/quotes/{number}/accept", data={**CHECKOUT_ADDRESS, "purchase_order": "PO-Q1",
                                                            "token": "a-1"})
    assert accepted.status_code == 303, accepted.text
    order = db.session.scalar(select(Order))
    assert accepted.headers["Location"].endswith(f"/orders/{order.number}/confirmation") or order.number in \
        accepted.headers["Location"]
    assert [(ln.sku, ln.quantity, str(ln.unit_price)) for ln in order.lines] == [(DRUM, 8, "1800.00")]
    assert order.purchase_order == "PO-Q1"
    after = text_of(client.get(f"/quotes/{number}").text)
    assert "Accepted" in after and order.number in after
    again = client.post(f"/quotes/{number}/accept", data={**CHECKOUT_ADDRESS, "purchase_order": "PO-Q1",
                                                          "token": "a-1"})
    assert again.status_code == 303 and db.session.scalar(select(func.count(Order.id))) == 1


def test_a_missing_address_field_shows_beside_it(buyer, stocked):
    _, client = buyer
    _request(client, [(DRUM, 2)])
    number = db.session.scalar(select(Quote.number))
    _answered(number)
    refused = client.post(f"/quotes/{number}/accept", data={**CHECKOUT_ADDRESS, "city": "", "token": "a-2"})
    assert refused.status_code == 422 and field_error(refused.text, "city")
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_declining_ends_the_quote(buyer, stocked):
    _, client = buyer
    _request(client, [(DRUM, 2)])
    number = db.session.scalar(select(Quote.number))
    _answered(number)
    assert client.post(f"/quotes/{number}/decline").status_code == 303
    page = client.get(f"/quotes/{number}").text
    assert "Declined" in text_of(page) and "Accept and place the order" not in page


def test_a_quote_past_its_day_offers_no_acceptance(buyer, stocked):
    _, client = buyer
    _request(client, [(DRUM, 2)])
    number = db.session.scalar(select(Quote.number))
    _answered(number, days=0)
    sales.get_quote(number).valid_until = price_lists.today() - timedelta(days=1)
    db.session.commit()
    page = client.get(f"/quotes/{number}").text
    assert "can no longer be accepted" in page and "Accept and place the order" not in page
    assert "Decline the quote" not in page
    refused = client.post(f"/quotes/{number}/accept", data={**CHECKOUT_ADDRESS, "token": "a-3"})
    assert refused.status_code == 303 and db.session.scalar(select(func.count(Order.id))) == 0


def test_another_companys_quote_is_404(app, buyer, stocked):
    _, client = buyer
    make_customer("other@rival.example", "Rival Labs")
    rival = app.test_client()
    sign_in(rival, "other@rival.example")
    _request(rival, [(DRUM, 2)])
    number = db.session.scalar(select(Quote.number))
    assert client.get(f"/quotes/{number}").status_code == 404
    assert client.post(f"/quotes/{number}/decline").status_code == 404
