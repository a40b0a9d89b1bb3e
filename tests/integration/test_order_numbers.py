"""Order numbers typed in any case find the order, as lot numbers do: the API (an order and its actions), the
storefront's order pages and the staff pages; the lookup keeps using the number's unique index."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.ordering import new_order_number, order_number_is
from shop.ordering.models import Order
from shop.platform.extensions import db
from tests.support.api import ApiClient
from tests.support.billing import pay_in_full
from tests.support.factories import make_lot, make_member, recall_leaving_short
from tests.support.staff import sign_in as staff_sign_in
from tests.support.staff import text_of
from tests.support.storefront import sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")


def _typed_in_lower_case(api) -> tuple[str, str]:
    number = api.order().get_json()["number"]
    return number, number.lower()


def test_the_api_finds_and_cancels_an_order_by_its_number_in_any_case(api, stocked):
    number, typed = _typed_in_lower_case(api)
    shown = api.get(f"/api/v1/orders/{typed}")
    assert shown.status_code == 200 and shown.get_json()["number"] == number
    assert api.get(f"/api/v1/orders/{number.title()}").get_json()["number"] == number
    cancelled = api.post(f"/api/v1/orders/{typed}/cancel", json={})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.get_json()["number"] == number and cancelled.get_json()["status"] == "cancelled"


def test_an_approver_key_approves_an_order_by_its_number_in_any_case(api, stocked):
    companies.set_terms(api.customer.company, "prepaid", "", "1000")  # one drum, 1,950.00, waits for approval
    boss = make_member(api.customer, "boss@acme.example", "approver")  # another than the order's placer
    approver = ApiClient(api.client, accounts.create_api_key(boss, "approver", "approver"), boss)
    db.session.commit()
    number, typed = _typed_in_lower_case(api)
    approved = approver.post(f"/api/v1/orders/{typed}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert (approved.get_json()["number"], approved.get_json()["status"]) == (number, "pending")


def test_another_companys_order_stays_404_in_any_case(api, rival, stocked):
    _number, typed = _typed_in_lower_case(api)
    assert rival.get(f"/api/v1/orders/{typed}").status_code == 404


def test_the_buyers_order_pages_find_the_order_by_its_number_in_any_case(api, client, stocked):
    number, typed = _typed_in_lower_case(api)
    sign_in(client, api.customer.email)
    page = client.get(f"/orders/{typed}")
    assert page.status_code == 200 and f"Order {number}" in text_of(page.text)
    assert client.get(f"/orders/{typed}/cancel").status_code == 200
    client.post(f"/orders/{typed}/cancel", data={"confirm": "yes"})
    assert db.session.scalar(select(Order.status).where(Order.number == number)) == "cancelled"


def test_staff_open_confirm_and_trace_an_order_by_its_number_in_any_case(api, client, stocked):
    number, typed = _typed_in_lower_case(api)
    staff_sign_in(client, "admin")
    page = client.get(f"/staff/orders/{typed}")
    assert page.status_code == 200 and number in text_of(page.text)
    assert client.get(f"/staff/orders/{typed}/packing-slip").status_code == 200
    assert client.get(f"/staff/trace/order/{typed}").status_code == 200
    client.post(f"/staff/orders/{typed}/confirm")
    assert db.session.scalar(select(Order.status).where(Order.number == number)) == "confirmed"


@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_the_shop_writes_every_order_number_in_capitals(moment):
    # What lets a number typed in any case be matched by putting it in capitals, on the column's own index.
    number = new_order_number(moment)
    assert number == number.upper() and number.startswith(f"LS-{moment:%y%m%d}-")


def test_a_lookup_by_number_in_any_case_uses_the_numbers_unique_index(app):
    lookup = select(Order.id).where(order_number_is("ls-261203-fc02m")).compile(
        db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # an empty table: ask whether an index can serve
            plan = " ".join(conn.scalars(text(f"EXPLAIN {lookup}")))
        else:
            plan = " ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {lookup}")))
    assert "Seq Scan" not in plan and "SCAN " not in plan.replace("SEARCH ", ""), plan
    assert "uq_order_number" in plan or "autoindex_order" in plan, plan


def _flashed(page) -> str:
    """The flash messages a page shows, as text."""
    return " ".join(text_of(m) for m in re.findall(r'<p class="flash[^"]*">(.*?)</p>', page.text, re.S))


def test_staff_messages_name_the_order_by_its_own_number_not_as_typed(api, client, stocked):
    number, typed = _typed_in_lower_case(api)
    staff_sign_in(client, "admin")
    steps = [("confirm", {}, "confirmed."), ("ship", {"tracking_reference": "DHL-1"}, "shipped."),
             ("deliver", {}, "marked delivered.")]
    for action, data, said in steps:
        if action == "ship":
            pay_in_full(number)  # prepaid: it ships once paid
        page = client.post(f"/staff/orders/{typed}/{action}", data=data, follow_redirects=True)
        assert f"Order {number} {said}" in _flashed(page), action
        assert typed not in text_of(page.text) and page.request.path == f"/staff/orders/{number}"
    refused = client.post(f"/staff/orders/{typed}/cancel", data={"reason": "x"}, follow_redirects=True)
    assert f"Order {number} is delivered and cannot be cancelled." in _flashed(refused)


def test_staff_messages_about_a_short_order_name_it_by_its_own_number(api, client, stocked):
    number = api.order([{"sku": "LEU-USP-25KG", "quantity": 16}]).get_json()["number"]  # both lots' drums
    typed = number.lower()
    recall_leaving_short("L-SOON", "Foreign particles")
    make_lot(stocked, "L-NEW", {"LEU-USP-25KG": 6})
    staff_sign_in(client, "admin")
    filled = client.post(f"/staff/orders/{typed}/fill", follow_redirects=True)
    assert f"Order {number}: allocated 6 × LEU-USP-25KG from lot L-NEW." in _flashed(filled)
    assert typed not in text_of(filled.text)
    refused = client.post(f"/staff/orders/{typed}/fill", follow_redirects=True)
    assert f"Order {number} is not short" in _flashed(refused)


def test_the_buyers_messages_name_the_order_by_its_own_number_not_as_typed(api, client, stocked):
    number, typed = _typed_in_lower_case(api)
    sign_in(client, api.customer.email)
    again = client.post(f"/orders/{typed}/reorder", follow_redirects=True)
    assert f"of order {number} is in your cart" in _flashed(again)
    cancelled = client.post(f"/orders/{typed}/cancel", data={"confirm": "yes"}, follow_redirects=True)
    assert f"Order {number} is cancelled." in _flashed(cancelled)
    assert cancelled.request.path == f"/orders/{number}"
    refused = client.post(f"/orders/{typed}/cancel", data={"confirm": "yes"}, follow_redirects=True)
    assert f"Order {number} can no longer be cancelled" in _flashed(refused)
    assert typed not in text_of(again.text + cancelled.text + refused.text)


def test_an_approvers_message_names_the_order_by_its_own_number(api, client, stocked):
    companies.set_terms(api.customer.company, "prepaid", "", "1000")  # one drum, 1,950.00, waits for approval
    db.session.commit()
    number, typed = _typed_in_lower_case(api)
    boss = make_member(api.customer, "boss@acme.example", "approver")  # another than the order's placer
    sign_in(client, boss.email, "a long unusual passphrase")
    decided = client.post(f"/account/approvals/{typed}/approve", data={"note": ""}, follow_redirects=True)
    assert f"Order {number} is approved." in _flashed(decided)
