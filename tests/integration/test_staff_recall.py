"""Recall: the lot stops selling, open orders move to other lots FEFO or are flagged, receivers are listed."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop import ordering
from shop.inventory import availability
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus, MovementKind, StockMovement
from shop.ordering.models import Allocation, AllocationStatus, Order
from shop.platform.errors import IllegalTransition, InvalidInput
from shop.platform.extensions import db
from shop.quality import recall
from tests.support.api import ADDRESS
from tests.support.billing import ship_paid
from tests.support.factories import make_customer, make_lot, make_staff, releaser, signed
from tests.support.sql import count_statements
from tests.support.staff import place, sign_in, text_of  # noqa: F401

pytestmark = pytest.mark.usefixtures("staff_clients")


def _recall(lot_number: str, reason: str, staff=None, note: str = "Do not use this lot."):
    """Recall a lot through the service, signed by `staff` (else make_lot's quality user)."""
    return recall.recall_lot(lot_number, reason, signed(staff or releaser(), "recall", lot_number), note)


def _allocations(order_id: int) -> list[tuple[str, int, str]]:
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    return [(a.stock.batch.lot_number, a.quantity, a.status.value) for line in order.lines for a in line.allocations]


def test_recall_moves_a_pending_order_to_another_lot_fefo(app, product, customer):
    recalled = make_lot(product, "L-BAD", {"LEU-USP-25KG": 10}, expires_in_days=300)
    make_lot(product, "L-LATE", {"LEU-USP-25KG": 10}, expires_in_days=900)
    make_lot(product, "L-SOON", {"LEU-USP-25KG": 2}, expires_in_days=400)
    order = place(customer, "LEU-USP-25KG", 4)
    assert _allocations(order.id) == [("L-BAD", 4, "allocated")]
    staff = make_staff("quality")

    summary = _recall("L-BAD", "Customer complaint: foreign particles", staff)
    db.session.commit()

    assert summary.reallocated == [order.number] and summary.flagged == {}
    # FEFO: the 2 drums of the soonest-expiring good lot first, then the rest from the later one.
    assert _allocations(order.id) == [("L-BAD", 4, "returned_recalled"), ("L-SOON", 2, "allocated"),
                                      ("L-LATE", 2, "allocated")]
    assert db.session.get(Batch, recalled.id).status == BatchStatus.RECALLED
    assert {s.allocated for s in db.session.get(Batch, recalled.id).stocks} == {0}
    moves = db.session.scalars(select(StockMovement).where(StockMovement.order_id == order.id,
                                                           StockMovement.staff_id == staff.id)
                               .order_by(StockMovement.id)).all()
    assert [(m.kind, m.allocated_delta) for m in moves] == [(MovementKind.DEALLOCATION, -4),
                                                             (MovementKind.ALLOCATION, 2),
                                                             (MovementKind.ALLOCATION, 2)]
    assert inventory.check_ledger() == []
    assert db.session.get(Order, order.id).needs_attention is False
    # And nothing more can be sold from the recalled lot.
    assert availability.available_by_variant() == {product.variants[1].id: 12 - 4}


def test_recall_backorders_what_other_lots_cannot_cover(app, product, customer):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    make_lot(product, "L-SPARE", {"LEU-USP-25KG": 3})
    first = place(customer, "LEU-USP-25KG", 2)
    # The second order takes L-BAD's remaining drums and the spare ones except one.
    other = make_customer("second@example.com", "Beta Labs")
    second = place(other, "LEU-USP-25KG", 8)
    assert {lot for lot, _, _ in _allocations(second.id)} == {"L-BAD"}

    summary = _recall("L-BAD", "Assay drift found on retest", make_staff("quality"))
    db.session.commit()

    # The older order is served first: 2 of the 3 spare drums; the newer one gets the last drum and waits for the
    # other 7 (the next release fills them): not short, not flagged.
    assert summary.reallocated == [first.number]
    assert summary.flagged == {}
    assert summary.backordered == {second.number: "Lot L-BAD recalled and no other lot could replace it: "
                                                  "LEU-USP-25KG 7 units of 8 units backordered."}
    waiting = db.session.get(Order, second.id)
    assert (waiting.needs_attention, waiting.lines[0].backordered_quantity) == (False, 7)
    assert waiting.history[-1].note == summary.backordered[second.number]
    assert _allocations(second.id) == [("L-BAD", 8, "returned_recalled"), ("L-SPARE", 1, "allocated")]
    assert inventory.check_ledger() == []


def test_recall_flags_a_line_ordered_from_the_recalled_lot_only(app, product, customer):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    make_lot(product, "L-SPARE", {"LEU-USP-25KG": 3})
    pinned = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 2, "lot_number": "L-BAD"}], ADDRESS)
    db.session.commit()
    summary = _recall("L-BAD", "Assay drift found on retest")
    db.session.commit()
    assert (summary.backordered, list(summary.flagged)) == ({}, [pinned.number])
    flagged = db.session.get(Order, pinned.id)
    assert flagged.needs_attention is True
    assert flagged.attention_note == "Lot L-BAD recalled: LEU-USP-25KG short by 2 of 2 units."
    assert flagged.lines[0].backordered_quantity == 0
    with pytest.raises(IllegalTransition):  # cannot confirm (nor ship) what is not allocated
        ordering.confirm_order(pinned.number)
    db.session.rollback()


def test_recall_respects_the_orders_minimum_shelf_life(app, product, customer):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 5}, expires_in_days=800)
    make_lot(product, "L-SHORT", {"LEU-USP-25KG": 5}, expires_in_days=100)
    order = place(customer, "LEU-USP-25KG", 2, min_days=365)
    summary = _recall("L-BAD", "recall")
    db.session.commit()
    assert list(summary.backordered) == [order.number]
    assert _allocations(order.id) == [("L-BAD", 2, "returned_recalled")]


def test_recall_lists_customers_who_received_the_lot_and_leaves_shipments_alone(app, product, customer):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    shipped = place(customer, "LEU-USP-25KG", 3)
    ordering.confirm_order(shipped.number)
    ship_paid(shipped.number, "DHL-123")
    db.session.commit()
    summary = _recall("L-BAD", "recall")
    db.session.commit()
    assert summary.customers_to_contact == [("Acme Nutrition", "buyer@example.com")]
    assert [(r.order_number, r.quantity, r.tracking_reference) for r in summary.received] == [
        (shipped.number, 3, "DHL-123")]
    assert _allocations(shipped.id) == [("L-BAD", 3, "shipped")]


def test_recall_refusals_change_nothing(app, product):
    make_lot(product, "L-Q", {"LEU-USP-25KG": 1}, status="quarantine")
    make_lot(product, "L-OK", {"LEU-USP-25KG": 1})
    with pytest.raises(IllegalTransition):
        _recall("L-Q", "reason")
    db.session.rollback()
    with pytest.raises(InvalidInput) as no_reason:
        _recall("L-OK", " ")
    assert "reason" in no_reason.value.errors
    db.session.rollback()
    assert set(db.session.scalars(select(Batch.status))) == {BatchStatus.QUARANTINE, BatchStatus.RELEASED}


def test_recall_page_shows_receivers_and_what_happened_to_open_orders(client, product, customer):
    make_lot(product, "L-BAD", {"LEU-USP-25KG": 10})
    make_lot(product, "L-SPARE", {"LEU-USP-25KG": 1})
    shipped = place(customer, "LEU-USP-25KG", 2)
    ordering.confirm_order(shipped.number)
    ship_paid(shipped.number, "UPS-9")
    db.session.commit()
    pending = place(make_customer("open@example.com", "Open Orders Ltd"), "LEU-USP-25KG", 5)
    sign_in(client, "quality")
    page = client.post("/staff/batches/L-BAD/recall", data={
        "reason": "Microbial contamination", "public_note": "Do not use: contamination found on retest.",
        "confirm": "y", "password": "staff password"}, follow_redirects=True)
    assert page.request.path == "/staff/batches/L-BAD/recall"
    text = text_of(page.text)
    assert ("Lot L-BAD recalled. 0 open order(s) re-allocated from other lots, 1 backordered for what no other lot "
            "has, 0 flagged for attention, 2 order(s) given the recall notice, 1 customer(s) received the lot.") in text
    assert f"Acme Nutrition buyer@example.com {shipped.number} LEU-USP-25KG 2" in text
    assert f"{pending.number} Open Orders Ltd LEU-USP-25KG 5 4 backordered" in text
    assert "Microbial contamination" in text
    # Who signed it, as what, when and declaring what; and what the customers were told.
    assert re.search(r"Signed by .*quality.*, quality unit, \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC: “.*L-BAD.*”", text), text
    assert ("Told to the customers (on its certificate and in each order's recall notice): Do not use: contamination "
            "found on retest.") in text
    assert db.session.scalar(select(Allocation.quantity).join(Allocation.stock).where(
        Allocation.status == AllocationStatus.ALLOCATED)) == 1


def test_a_recall_reads_no_more_statements_for_more_orders(app, product):
    """Moving three orders off a recalled lot costs the same reads as moving one: each order's notices, buyer and
    key (which order.changed tells) and lots come with the orders, not one order at a time."""
    make_lot(product, "L-ONE", {"LEU-USP-25KG": 1}, expires_in_days=300)
    make_lot(product, "L-THREE", {"LEU-USP-25KG": 3}, expires_in_days=400)
    for n in range(4):  # the first order takes L-ONE's drum, the other three one drum each of L-THREE
        place(make_customer(f"buyer{n}@example.com", f"Company {n}"), "LEU-USP-25KG", 1)
    make_lot(product, "L-SPARE", {"LEU-USP-25KG": 10}, expires_in_days=900)
    reads = {}
    for lot in ("L-ONE", "L-THREE"):
        signature = signed(releaser(), "recall", lot)
        db.session.commit()
        db.session.expire_all()
        with count_statements() as seen:
            summary = recall.recall_lot(lot, "Assay drift found on retest", signature, "Do not use this lot.")
            db.session.commit()  # order.changed's payload is made as the transaction commits
        assert len(summary.reallocated) == (1 if lot == "L-ONE" else 3)
        reads[lot] = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(reads["L-THREE"]) == len(reads["L-ONE"]), "\n".join(reads["L-THREE"])
