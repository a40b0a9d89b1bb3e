"""Recalls that reach the buyer: a public note apart from the internal reason, notices on the order pages, My
orders and the API (`notices`, allocations' `recalled`), recorded for e-mail; and the preview before signing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.accounts import people as accounts
from shop.inventory.models import Batch, BatchStatus, StockMovement
from shop.ordering.models import NoticeKind, OrderNotice
from shop.platform.extensions import db
from tests.support.api import ADDRESS
from tests.support.billing import ship_paid
from tests.support.factories import make_customer, make_lot, signed_recall
from tests.support.staff import place, sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")
NOTE = "Lot L-BAD may contain foreign particles: stop using it and contact us for a replacement."


def _recall():
    """Recall L-BAD with NOTE and commit; then forget what this test's session had loaded, as the next request
    of a real server starts afresh."""
    summary = signed_recall("L-BAD", "Supplier audit failed", note=NOTE)
    db.session.commit()
    db.session.expire_all()
    return summary


def _scenario(product, customer):
    """L-BAD: one order shipped from it, one open on it, one cancelled before the recall; L-GOOD covers the open
    one."""
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10}, expires_in_days=300)
    shipped = place(customer, "LEU-USP-25KG", 2)
    ordering.confirm_order(shipped.number)
    ship_paid(shipped.number, "DHL-1")
    cancelled = place(customer, "LEU-USP-25KG", 1)
    ordering.cancel_order(cancelled.number)
    open_order = place(make_customer("open@example.com", "Open Ltd"), "LEU-USP-25KG", 3)
    db.session.commit()
    make_lot(product, "L-GOOD", {"LEU-USP-25KG": 10}, expires_in_days=600)
    return shipped, cancelled, open_order


def test_a_recall_records_a_notice_on_every_order_that_drew_on_the_lot(app, product, customer):
    shipped, cancelled, open_order = _scenario(product, customer)
    summary = _recall()
    assert summary.notified == 2
    notices = db.session.scalars(select(OrderNotice).order_by(OrderNotice.order_id)).all()
    assert [(n.order_id, n.kind, n.lot_number, n.message, n.sent_at) for n in notices] == [
        (shipped.id, NoticeKind.RECALL, "L-BAD", NOTE, None), (open_order.id, NoticeKind.RECALL, "L-BAD", NOTE, None)]
    batch = db.session.scalar(select(Batch).where(Batch.lot_number == "L-BAD"))
    assert (batch.status, batch.status_reason, batch.recall_note) == (BatchStatus.RECALLED, "Supplier audit failed",
                                                                      NOTE)


def test_the_buyers_order_page_and_my_orders_show_the_notice_but_never_the_internal_reason(app, client, product,
                                                                                         customer):
    shipped, cancelled, _ = _scenario(product, customer)
    _recall()
    client.post("/sign-in", data={"email": customer.email, "password": "correct horse"})
    page = text_of(client.get(f"/orders/{shipped.number}").text)
    assert f"Recall of lot L-BAD. {NOTE}" in page
    assert "Lot L-BAD: 2 units, expires" in page and "shipped recalled: do not use" in page
    assert "Supplier audit failed" not in page
    listing = text_of(client.get("/orders").text)
    assert listing.count("Recall notice: lot L-BAD") == 1  # the shipped order; the cancelled one never held it
    assert "Recall" not in text_of(client.get(f"/orders/{cancelled.number}").text)


def test_an_open_order_moved_off_the_lot_says_so_in_plain_words(app, client, product, customer):
    _, _, open_order = _scenario(product, customer)
    _recall()
    client.post("/sign-in", data={"email": "open@example.com", "password": "correct horse"})
    page = text_of(client.get(f"/orders/{open_order.number}").text)
    assert f"Recall of lot L-BAD. {NOTE}" in page
    assert "Lot L-BAD: 3 units returned to stock (lot recalled)" in page
    assert "Lot L-GOOD: 3 units, expires" in page
    assert "released" not in page.lower().replace("released on", "")


def test_the_api_shows_recalled_allocations_and_the_notices(app, client, product, customer):
    shipped, _, _ = _scenario(product, customer)
    key = accounts.create_api_key(customer)
    db.session.commit()
    auth = {"Authorization": f"Bearer {key}"}
    before = client.get(f"/api/v1/orders/{shipped.number}", headers=auth).get_json()
    assert before["notices"] == [] and before["lines"][0]["allocations"][0]["recalled"] is False
    _recall()
    order = client.get(f"/api/v1/orders/{shipped.number}", headers=auth).get_json()
    assert order["lines"][0]["allocations"] == [
        {"lot_number": "L-BAD", "quantity": 2, "expires_on": order["lines"][0]["allocations"][0]["expires_on"],
         "recalled": True}]
    assert order["notices"] == [{"kind": "recall", "lot_number": "L-BAD", "message": NOTE}]
    listed = client.get("/api/v1/orders", headers=auth).get_json()["items"]
    assert [o["notices"] for o in listed if o["number"] == shipped.number] == [order["notices"]]
    assert "Supplier audit failed" not in str(order)


def test_a_new_order_answers_with_no_notices_and_unrecalled_lots(app, client, product, customer):
    make_lot(product, "L-NEW", {"LEU-USP-25KG": 5})
    key = accounts.create_api_key(customer)
    db.session.commit()
    answer = client.post("/api/v1/orders", headers={"Authorization": f"Bearer {key}"}, json={
        "lines": [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": {
            "name": "Goods in", "line1": "Dock 4", "city": "Hamburg", "postal_code": "20457", "country": "DE"}})
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["notices"] == [] and body["lines"][0]["allocations"][0]["recalled"] is False
    assert body["lines"][0]["cancelled_quantity"] == 0


def test_the_recall_form_shows_what_will_happen_before_it_is_signed_and_changes_nothing(app, client, product,
                                                                                      customer):
    shipped, _, open_order = _scenario(product, customer)
    short = place(make_customer("late@example.com", "Late Ltd"), "LEU-USP-25KG", 5)  # 5 of L-BAD's last 5
    make_lot(product, "L-THIN", {"LEU-USP-1KG": 1})
    db.session.commit()
    movements = db.session.scalar(select(func.count(StockMovement.id)))
    sign_in(client, "quality")
    page = client.get("/staff/batches/L-BAD/recall/new")
    text = text_of(page.text)
    assert "Units returned to stock 8 LEU-USP-25KG: 8 units reserved for open orders" in text
    assert f"{open_order.number} (Open Ltd): 3 units off the lot, re-allocated from other lots" in text
    # L-GOOD's 10 drums cover the first 3 and then only 7 of... the second needs 5: covered too
    assert f"{short.number} (Late Ltd): 5 units off the lot, re-allocated" in text
    assert f"Acme Nutrition · buyer@example.com: order {shipped.number}, 2 × LEU-USP-25KG" in text
    assert "Internal reason (staff only, never published)" in text
    assert "Note to customers (published on their orders, in the API and on the CoA)" in text
    assert "I recall lot L-BAD: it must no longer be sold or used." in text
    assert db.session.scalar(select(func.count(StockMovement.id))) == movements
    assert db.session.scalar(select(Batch.status).where(Batch.lot_number == "L-BAD")) == BatchStatus.RELEASED


def test_the_preview_says_which_orders_will_wait_for_units_no_other_lot_has(app, client, product, customer):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    make_lot(product, "L-FEW", {"LEU-USP-25KG": 1})
    first = place(customer, "LEU-USP-25KG", 2)
    second = place(make_customer("b@example.com", "B Ltd"), "LEU-USP-25KG", 4)
    pinned = ordering.place_order(make_customer("p@example.com", "Pin Ltd"),
                                  [{"sku": "LEU-USP-25KG", "quantity": 1, "lot_number": "L-BAD"}], ADDRESS)
    db.session.commit()
    sign_in(client, "quality")
    text = text_of(client.get("/staff/batches/L-BAD/recall/new").text)
    assert (f"{first.number} (Acme Nutrition): 2 units off the lot, 1 backordered : no other lot has them now, the "
            "next release fills them (the buyer may cancel them)") in text
    assert f"{second.number} (B Ltd): 4 units off the lot, 4 backordered" in text
    # A line ordered from the recalled lot only: no later lot may fill it, so it is short and flagged.
    assert (f"{pinned.number} (Pin Ltd): 1 unit off the lot, 1 short after re-allocation (ordered from this lot "
            "only): the order will be flagged") in text


def test_a_recall_needs_the_public_note(app, client, product):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    sign_in(client, "quality")
    page = client.post("/staff/batches/L-BAD/recall", data={"reason": "x", "confirm": "y",
                                                            "password": "staff password"})
    assert page.status_code == 422
    assert "Write what customers who received the lot are told." in page.text
    assert db.session.scalar(select(Batch.status)) == BatchStatus.RELEASED
