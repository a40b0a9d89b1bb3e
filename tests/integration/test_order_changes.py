"""Nothing changes on an open order without its buyer being told: a recall that moves or shortens it, fulfilment
filling a short order (one click or by hand) or cancelling its missing units each announce `order.changed` (the
order, what changed and why) and e-mail the buyer; the recall notice says what happens to each open order; the
cancellation e-mail gives the reason; approvers hear when a buyer withdraws an order that waits for them."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from shop import ordering
from shop.events import webhooks
from shop.ordering import approvals, shortages
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.events import Receiver, run_worker
from tests.support.factories import (
    make_company_with_approval,
    make_customer,
    make_lot,
    make_staff,
    recall_leaving_short,
    signed_recall,
)
from tests.support.mail import drain, outbox_mail
from tests.support.staff import place

NOTE = "Lot L-BAD may contain foreign particles: stop using it."
COA = "http://127.0.0.1:5000/coa/{}"


def _events(event_type: str) -> list[dict]:
    db.session.commit()
    return [json.loads(e.data) for e in db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(OutboxEvent.id))]


def _mail_to(address: str, subject: str):
    (message,) = [m for m in outbox_mail() if address in m.to and m.subject == subject]
    return message


def _recalled_order(product, customer, units: int = 3, cover: int = 0, recall=signed_recall):
    """An order of `units` 25 kg drums drawn from L-BAD, recalled with `cover` units left elsewhere (lot L-COVER)."""
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10}, expires_in_days=300)
    order = place(customer, "LEU-USP-25KG", units)
    if cover:
        make_lot(product, "L-COVER", {"LEU-USP-25KG": cover}, expires_in_days=500)
    drain()
    recall("L-BAD", "Supplier audit failed", note=NOTE)
    drain()
    return order


def _short_order(product, customer, units: int = 3, cover: int = 0):
    """The same, left short (as recalls left orders before backorders): what fulfilment fills or trims."""
    return _recalled_order(product, customer, units, cover, recall_leaving_short)


def test_a_recall_that_moves_an_open_order_to_another_lot_announces_it_and_the_notice_says_so(app, product,
                                                                                               customer):
    order = _recalled_order(product, customer, cover=5)

    (changed,) = _events("order.changed")
    assert changed["number"] == order.number and changed["cause"] == "lot_recalled"
    assert changed["reason"] == "Lot L-BAD was recalled."
    assert changed["changes"] == [
        {"kind": "returned", "sku": "LEU-USP-25KG", "lot_number": "L-BAD", "quantity": 3},
        {"kind": "allocated", "sku": "LEU-USP-25KG", "lot_number": "L-COVER", "quantity": 3}]
    assert [a["lot_number"] for a in changed["lines"][0]["allocations"]] == ["L-COVER"]  # the order as it is now
    (recalled,) = _events("lot.recalled")
    assert recalled["open_orders"] == [{"number": order.number, "changes": changed["changes"], "missing": [],
                                        "backordered": []}]

    notice = _mail_to(customer.email, "Recall of lot L-BAD")
    assert f"{order.number}: re-allocated" in notice.body
    assert "3 units of LEU-USP-25KG now come from lot L-COVER" in notice.body
    assert COA.format("L-COVER") in notice.body
    assert [m.subject for m in outbox_mail() if "changed" in m.subject] == []  # one message: the notice


def test_a_recall_that_other_lots_cannot_cover_backorders_the_rest_and_says_so(app, product, customer):
    order = _recalled_order(product, customer, units=3, cover=1)

    (changed,) = _events("order.changed")
    assert changed["changes"] == [
        {"kind": "returned", "sku": "LEU-USP-25KG", "lot_number": "L-BAD", "quantity": 3},
        {"kind": "allocated", "sku": "LEU-USP-25KG", "lot_number": "L-COVER", "quantity": 1},
        {"kind": "backordered", "sku": "LEU-USP-25KG", "quantity": 2}]
    assert (changed["missing"], changed["lines"][0]["backordered_quantity"]) == ([], 2)
    (recalled,) = _events("lot.recalled")
    assert recalled["open_orders"][0]["backordered"] == [{"sku": "LEU-USP-25KG", "quantity": 2}]
    notice = _mail_to(customer.email, "Recall of lot L-BAD")
    assert (f"{order.number}: goes ahead with what it holds; 2 units of LEU-USP-25KG backordered, as no other lot "
            "has them now: we allocate them from the next lot we release and e-mail you then, and you may cancel "
            "them on the order's page.") in notice.body
    assert "1 unit of LEU-USP-25KG now comes from lot L-COVER" in notice.body
    assert NOTE in notice.body


def test_filling_a_short_order_mails_the_buyer_the_new_lot_and_its_certificate(app, product, customer):
    order = _short_order(product, customer)
    make_lot(product, "L-NEW", {"LEU-USP-25KG": 5}, expires_in_days=600)
    shortages.fill_short_order(order.number, make_staff("fulfilment"))
    drain()

    changed = _events("order.changed")[-1]
    assert changed["cause"] == "missing_units_allocated"
    assert changed["reason"] == "The units missing since lot L-BAD was recalled were allocated from another lot."
    assert changed["changes"] == [{"kind": "allocated", "sku": "LEU-USP-25KG", "lot_number": "L-NEW", "quantity": 3}]
    message = _mail_to(customer.email, f"Order {order.number} changed")
    assert "3 units of LEU-USP-25KG now come from lot L-NEW" in message.body
    assert COA.format("L-NEW") in message.body and changed["reason"] in message.body


def test_allocating_by_hand_mails_the_buyer(app, product, customer):
    order = _short_order(product, customer)
    make_lot(product, "L-HAND", {"LEU-USP-25KG": 5}, expires_in_days=600)
    shortages.allocate_by_hand(order.number, 0, "L-HAND", 2, make_staff("fulfilment"))
    drain()

    changed = _events("order.changed")[-1]
    assert changed["changes"] == [{"kind": "allocated", "sku": "LEU-USP-25KG", "lot_number": "L-HAND",
                                   "quantity": 2}]
    message = _mail_to(customer.email, f"Order {order.number} changed")
    assert "2 units of LEU-USP-25KG now come from lot L-HAND" in message.body and COA.format("L-HAND") in message.body
    assert "still short of 1 unit of LEU-USP-25KG" in message.body


def test_cancelling_missing_units_mails_the_old_and_new_total_and_why(app, product, customer):
    order = _short_order(product, customer, units=3, cover=1)
    shortages.cancel_short_units(order.number, make_staff("fulfilment"))
    drain()

    changed = _events("order.changed")[-1]
    assert changed["cause"] == "missing_units_cancelled"
    assert changed["changes"] == [
        {"kind": "cancelled", "sku": "LEU-USP-25KG", "quantity": 2},
        {"kind": "total", "from": "6961.50", "to": "2320.50", "currency": "EUR"}]  # with 19 % VAT
    assert changed["total"] == "2320.50" and changed["lines"][0]["cancelled_quantity"] == 2
    message = _mail_to(customer.email, f"Order {order.number} changed")
    assert "2 units of LEU-USP-25KG cancelled" in message.body
    assert "Total: 6,961.50 EUR, now 2,320.50 EUR" in message.body
    assert changed["reason"] in message.body and "could not be supplied" in changed["reason"]


@pytest.fixture
def hooks_app(make_app):
    app = make_app(WEBHOOK_ALLOW_INSECURE=True)
    with app.app_context():
        yield app
        db.session.remove()


def test_the_companys_endpoint_receives_order_changed_signed(hooks_app):
    from tests.support.factories import make_product

    product = make_product()
    customer = make_customer()
    with Receiver() as receiver:
        endpoint = webhooks.create_endpoint(customer, receiver.url, ["order.changed"], "ERP")
        db.session.commit()
        secret = endpoint.secret
        number = _short_order(product, customer, cover=5).number
        run_worker(lambda: len(receiver.received) >= 1)
        (delivery,) = receiver.received
    payload = Webhook(secret).verify(delivery.body, delivery.headers)
    assert payload["type"] == "order.changed" and payload["data"]["number"] == number
    assert payload["data"]["changes"][1] == {"kind": "allocated", "sku": "LEU-USP-25KG", "lot_number": "L-COVER",
                                             "quantity": 3}


def test_the_cancellation_mail_gives_the_reason(app, product, customer):
    make_lot(product, "L-ONE", {"LEU-USP-25KG": 5})
    by_staff, by_buyer = place(customer, "LEU-USP-25KG", 1), place(customer, "LEU-USP-25KG", 1)
    ordering.cancel_order(by_staff.number, staff=make_staff("fulfilment"), reason="The delivery address is "
                                                                                  "under embargo.")
    ordering.cancel_order(by_buyer.number, customer=customer)
    drain()
    assert "Reason: The delivery address is under embargo." in _mail_to(
        customer.email, f"Order {by_staff.number} was cancelled").body
    assert f"Reason: cancelled by {customer.email}." in _mail_to(
        customer.email, f"Order {by_buyer.number} was cancelled").body


def _company_with_approval(product):
    make_lot(product, "L-APPR", {"LEU-USP-25KG": 5})
    return make_company_with_approval()


def test_approvers_are_told_when_a_buyer_withdraws_an_order_that_waits_for_them(app, product):
    buyer = _company_with_approval(product)
    order = place(buyer, "LEU-USP-25KG", 1)
    drain()
    ordering.cancel_order(order.number, customer=buyer)
    drain()
    withdrawn = _mail_to("boss@acme.example", f"Order {order.number} withdrawn")
    assert withdrawn.to == ["admin@acme.example", "boss@acme.example"]
    assert f"buyer@acme.example withdrew order {order.number}" in withdrawn.body
    assert "nothing to approve" in withdrawn.body


def test_an_approval_that_expired_mails_the_buyer_why(app, product):
    buyer = _company_with_approval(product)
    order = place(buyer, "LEU-USP-25KG", 1)
    approvals.expire_waiting(utcnow() + timedelta(days=30))
    drain()
    cancelled = _mail_to("buyer@acme.example", f"Order {order.number} was cancelled")
    assert "Reason: Not approved within" in cancelled.body
    assert [m.subject for m in outbox_mail() if "withdrawn" in m.subject] == []


def test_a_recall_moves_an_order_that_waits_for_approval_and_tells_its_buyer(app, product):
    buyer = _company_with_approval(product)  # its order draws on L-APPR
    order = place(buyer, "LEU-USP-25KG", 2)
    make_lot(product, "L-AFTER", {"LEU-USP-25KG": 5}, expires_in_days=800)
    drain()
    signed_recall("L-APPR", "Supplier audit failed", note=NOTE)
    drain()

    (changed,) = _events("order.changed")
    assert changed["number"] == order.number and changed["status"] == "awaiting_approval"
    assert [a["lot_number"] for a in changed["lines"][0]["allocations"]] == ["L-AFTER"]
    notice = _mail_to("buyer@acme.example", "Recall of lot L-APPR")
    assert f"{order.number}: re-allocated" in notice.body and COA.format("L-AFTER") in notice.body


def _two_buyers(product):
    """Acme: its admin and two buyers, each with an open order of 3 drums on L-BAD; L-COVER covers the first only.
    """
    from shop.accounts import companies

    admin = make_customer("admin@acme.example")
    first, second = (companies.invite_member(admin, f"{name}@acme.example", "buyer") for name in ("first", "second"))
    first.joined_at = second.joined_at = utcnow()
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10}, expires_in_days=300)
    orders = place(first, "LEU-USP-25KG", 3), place(second, "LEU-USP-25KG", 3)
    make_lot(product, "L-COVER", {"LEU-USP-25KG": 3}, expires_in_days=500)
    drain()
    return admin, (first, second), orders


def test_every_buyer_whose_open_order_a_recall_changed_learns_what_happens_to_it(app, product):
    _, buyers, (moved, waiting) = _two_buyers(product)
    signed_recall("L-BAD", "Supplier audit failed", note=NOTE)
    drain()
    for buyer in buyers:
        notice = _mail_to(buyer.email, "Recall of lot L-BAD")
        assert f"{moved.number}: re-allocated" in notice.body
        assert f"{waiting.number}: goes ahead with what it holds; 3 units of LEU-USP-25KG backordered" in notice.body


def test_the_recall_notice_is_not_lost_when_the_buyers_who_placed_the_orders_have_left(app, product):
    from shop.accounts import companies

    admin, (first, second), (moved, waiting) = _two_buyers(product)
    companies.remove_member(admin, first.id)
    db.session.commit()
    signed_recall("L-BAD", "Supplier audit failed", note=NOTE)
    drain()
    assert f"{waiting.number}: goes ahead" in _mail_to(second.email, "Recall of lot L-BAD").body
    assert [m.to for m in outbox_mail() if m.subject == "Recall of lot L-BAD"] == [[second.email]]

    companies.remove_member(admin, second.id)
    db.session.commit()
    signed_recall("L-COVER", "Supplier audit failed", note=NOTE)
    drain()
    assert f"{moved.number}: goes ahead" in _mail_to(admin.email, "Recall of lot L-COVER").body
