"""An order awaiting its company's approval that a recall left short (the recall re-allocates such orders too):
the buyer's page, the approvals page and the staff page say what it misses, read from its allocations
(shortages.missing_now); fulfilment fills it or cancels its missing units while it waits, and the buyer is told
(order.changed); the approver sees the shortage before approving, and the dashboard lists it as short."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shop.accounts import companies
from shop.ordering import shortages
from shop.ordering.models import Order, OrderStatus
from shop.ordering.work_queue import work_queue
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.factories import make_customer, make_lot, recall_leaving_short
from tests.support.mail import drain
from tests.support.staff import place, sign_in, text_of
from tests.support.storefront import sign_in as storefront_sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
PASSWORD = "a long unusual passphrase"
MISSES = "L-Leucine USP, 25 kg (LEU-USP-25KG) misses 2 of 3 units"


def _member(admin, email: str, role: str):
    member = companies.invite_member(admin, email, role)
    member.set_password(PASSWORD)
    member.joined_at = member.created_at
    return member


@pytest.fixture
def short_waiting(app, product) -> Order:
    """A buyer's order of 3 drums above Acme's threshold, waiting for approval, whose lot L-APPR is recalled with
    one drum left elsewhere (L-COVER): it is re-allocated 1 drum and left 2 short, flagged."""
    make_lot(product, "L-APPR", {"LEU-USP-25KG": 5}, expires_in_days=300)
    admin = make_customer("admin@acme.example")
    companies.set_terms(admin.company, approval_threshold="100")
    buyer = _member(admin, "buyer@acme.example", "buyer")
    _member(admin, "boss@acme.example", "approver")
    db.session.commit()
    order = place(buyer, "LEU-USP-25KG", 3)
    make_lot(product, "L-COVER", {"LEU-USP-25KG": 1}, expires_in_days=500)
    drain()
    recall_leaving_short("L-APPR", "Supplier audit failed")
    db.session.commit()
    drain()
    assert order.status == OrderStatus.AWAITING_APPROVAL and order.needs_attention
    return order


def _person(app, email: str):
    person = app.test_client()
    storefront_sign_in(person, email, PASSWORD)
    return person


def _changed() -> list[dict]:
    db.session.commit()
    return [json.loads(e.data) for e in db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == "order.changed").order_by(OutboxEvent.id))]


def test_what_it_misses_shows_on_the_buyers_the_approvers_and_the_staff_page(app, client, short_waiting):
    number = short_waiting.number
    assert [str(s) for s in shortages.missing_now(short_waiting)] == ["LEU-USP-25KG misses 2 of 3 units"]

    buyer_page = text_of(_person(app, "buyer@acme.example").get(f"/orders/{number}").text)
    assert f"Not all of this order is allocated yet: {MISSES}." in buyer_page
    assert "2 units not allocated yet" in buyer_page

    approvals = text_of(_person(app, "boss@acme.example").get("/account/approvals").text)
    assert f"Short since lot L-APPR was recalled: {MISSES}." in approvals

    sign_in(client, "fulfilment")
    staff_page = text_of(client.get(f"/staff/orders/{number}").text)
    assert f"Needs attention Short since lot L-APPR was recalled: {MISSES}." in staff_page
    assert "nothing is missing now" not in staff_page


def test_fulfilment_fills_a_short_order_while_it_awaits_approval_and_the_buyer_is_told(app, client, product,
                                                                                       short_waiting):
    make_lot(product, "L-NEW", {"LEU-USP-25KG": 5}, expires_in_days=600)
    sign_in(client, "fulfilment")
    page = text_of(client.post(f"/staff/orders/{short_waiting.number}/fill", follow_redirects=True).text)

    assert f"Order {short_waiting.number}: allocated 2 × LEU-USP-25KG from lot L-NEW. It is no longer short." in page
    db.session.expire_all()
    order = db.session.get(Order, short_waiting.id)
    assert order.status == OrderStatus.AWAITING_APPROVAL and not order.needs_attention
    assert shortages.missing_now(order) == []
    (*_, changed) = _changed()
    assert (changed["number"], changed["cause"], changed["status"]) == (
        order.number, "missing_units_allocated", "awaiting_approval")


def test_fulfilment_cancels_the_missing_units_while_it_awaits_approval_and_the_buyer_is_told(app, client,
                                                                                            short_waiting):
    sign_in(client, "fulfilment")
    page = text_of(client.post(f"/staff/orders/{short_waiting.number}/cancel-short", follow_redirects=True).text)

    assert f"Order {short_waiting.number}: the missing units are cancelled" in page
    db.session.expire_all()
    order = db.session.get(Order, short_waiting.id)
    assert order.status == OrderStatus.AWAITING_APPROVAL and order.lines[0].cancelled_quantity == 2
    (*_, changed) = _changed()
    assert (changed["cause"], changed["missing"]) == ("missing_units_cancelled", [])


def test_the_staff_page_offers_only_what_it_can_do_with_a_short_order_awaiting_approval(app, client, short_waiting):
    sign_in(client, "fulfilment")
    page = text_of(client.get(f"/staff/orders/{short_waiting.number}").text)

    assert "Allocate missing units" in page and "Cancel the missing units" in page
    assert "Or cancel the whole order below." not in page  # staff do not cancel an order its company decides on
    assert "Or its company's approvers reject it" in page


def test_the_approver_sees_the_shortage_before_approving_and_the_dashboard_lists_it_as_short(app, short_waiting):
    approver = _person(app, "boss@acme.example")
    page = text_of(approver.get("/account/approvals").text)
    assert "If you approve it, it goes ahead short" in page
    assert [o.number for o in work_queue().short.orders] == [short_waiting.number]
    assert [o.number for o in work_queue().attention.orders] == [short_waiting.number]

    approver.post(f"/account/approvals/{short_waiting.number}/approve", data={"note": ""})
    db.session.expire_all()
    order = db.session.get(Order, short_waiting.id)
    assert order.status == OrderStatus.PENDING
    assert [str(s) for s in shortages.missing_now(order)] == ["LEU-USP-25KG misses 2 of 3 units"]
    assert [o.number for o in work_queue().to_confirm.orders] == []  # short: it waits to be filled, not confirmed


def test_the_recall_page_lists_the_order_awaiting_approval_it_left_short(app, client, short_waiting):
    sign_in(client, "fulfilment")
    page = text_of(client.get("/staff/batches/L-APPR/recall").text)

    assert f"Open orders that drew on the lot 1 Order Customer SKU Units taken off the lot Outcome " \
           f"{short_waiting.number} Acme Nutrition LEU-USP-25KG 3 needs attention" in page
