"""Backorders fill themselves: releasing a lot allocates it to the orders waiting for its pack sizes, oldest first,
each within its own shelf life; a recall that no other lot can re-cover backorders what it took; staff see what
waits, per SKU and per order. Every step balances the ledger."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shop import ordering
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, MovementKind, StockMovement
from shop.ordering.models import Order, OrderStatusChange
from shop.platform.database import utcnow
from shop.platform.errors import InsufficientStock
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from shop.quality import release
from tests.support.billing import ship_paid
from tests.support.factories import (
    good_results,
    make_customer,
    make_lot,
    make_staff,
    releaser,
    signed,
    signed_recall,
)
from tests.support.mail import drain, outbox_mail
from tests.support.sql import count_statements
from tests.support.staff import page_statements, place, sign_in, text_of

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


def backordered(customer, held: int, waiting: int, *, min_days: int | None = None, ago: int = 0) -> Order:
    """An order holding `held` drums and waiting for `waiting` more, placed `ago` minutes before now (until
    placing with allow_backorder lands: placed for what is in stock, then its line given the backordered rest)."""
    order = place(customer, DRUM, held, min_days=min_days)
    line = order.lines[0]
    line.quantity += waiting
    line.backordered_quantity = waiting
    line.line_total = line.unit_price * line.quantity
    order.subtotal = order.total = line.line_total
    order.placed_at = utcnow() - timedelta(minutes=ago)
    db.session.commit()
    return order


def waiting_units(order: Order) -> tuple[int, list[tuple[str, int]]]:
    """What the order still waits for, and what it holds, per lot, as read afresh."""
    db.session.expire_all()
    order = ordering.get_order(order.number)
    line = order.lines[0]
    return line.backordered_quantity, sorted((a.stock.batch.lot_number, a.quantity) for a in line.allocations
                                             if a.status.live)


def events(event_type: str) -> list[dict]:
    db.session.commit()
    return [json.loads(e.data) for e in db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == event_type)
                                                            .order_by(OutboxEvent.id))]


def test_a_release_fills_backorders_oldest_order_first_within_each_shelf_life(app, product, customer):
    make_lot(product, "L-NOW", {DRUM: 3}, expires_in_days=900)
    picky = backordered(customer, 1, 2, min_days=500, ago=30)  # oldest, but wants 500 days: the new lot has 400
    oldest = backordered(make_customer("old@example.com", "Old Ltd"), 1, 3, ago=20)
    newer = backordered(make_customer("new@example.com", "New Ltd"), 1, 2, ago=10)
    make_lot(product, "L-NEW", {DRUM: 4}, expires_in_days=400)  # released: fills the waiting orders
    assert inventory.check_ledger() == []
    assert waiting_units(picky) == (2, [("L-NOW", 1)])
    assert waiting_units(oldest) == (0, [("L-NEW", 3), ("L-NOW", 1)])
    assert waiting_units(newer) == (1, [("L-NEW", 1), ("L-NOW", 1)])  # partial: the rest stays backordered


def test_each_order_served_records_it_announces_it_and_mails_the_buyer(app, product, customer):
    make_lot(product, "L-NOW", {DRUM: 1})
    order = backordered(customer, 1, 3)
    make_lot(product, "L-NEW", {DRUM: 2})
    assert inventory.check_ledger() == []
    note = db.session.scalars(select(OrderStatusChange.note).where(OrderStatusChange.order_id == order.id)
                              .order_by(OrderStatusChange.id)).all()[-1]
    assert note == "Backordered units allocated from lot L-NEW (released): LEU-USP-25KG 2 units. Still backordered: " \
                   "1 unit of LEU-USP-25KG"
    released = db.session.scalar(select(Batch).where(Batch.lot_number == "L-NEW"))
    movement = db.session.scalars(select(StockMovement).where(StockMovement.order_id == order.id)
                                  .order_by(StockMovement.id)).all()[-1]  # the ledger names the order and signer
    assert (movement.stock.batch_id, movement.kind, movement.allocated_delta, movement.on_hand_delta,
            movement.staff_id, movement.reason) == (
        released.id, MovementKind.ALLOCATION, 2, 0, released.status_changed_by_id,
        f"Order {order.number}: backordered units allocated from lot L-NEW")
    (event,) = events("order.backorder_allocated")
    assert event["number"] == order.number and event["version"] == 2
    assert event["changes"] == [{"kind": "allocated", "sku": DRUM, "lot_number": "L-NEW", "quantity": 2}]
    assert event["backordered"] == [{"sku": DRUM, "quantity": 1}]
    assert event["lines"][0]["backordered_quantity"] == 1
    drain()
    (message,) = [m for m in outbox_mail() if m.subject == f"Order {order.number}: backordered units allocated"]
    assert "2 units of LEU-USP-25KG now come from lot L-NEW" in message.body
    assert "Still backordered: 1 unit of LEU-USP-25KG." in message.body


# PostgreSQL: the ORM writes each kind of new row in one statement there (SQLite's driver takes them one by one).
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_release_costs_the_same_statements_for_5_and_50_waiting_orders(app, product, customer):
    counts = []
    for n, lot in ((5, "L-5"), (50, "L-50")):
        make_lot(product, f"{lot}-NOW", {DRUM: n})
        for _ in range(n):
            backordered(customer, 1, 1)
        batch = make_lot(product, lot, {DRUM: n}, status="quarantine")
        release.record_results(batch, good_results(product))
        db.session.commit()
        with count_statements() as seen:
            release.release_batch(batch, signed(releaser(), "release", lot))
            db.session.commit()
        counts.append(len(seen))
        assert len(events("order.backorder_allocated")) == (5 if n == 5 else 55)
        assert inventory.check_ledger() == []
    assert counts[0] == counts[1], counts


def test_after_a_recall_the_next_release_serves_the_recalled_order_before_a_new_one(app, product, customer):
    """The issue's story: after a recall, a new order took the two drums just released while the recalled order
    stayed short. Now the recall backorders them, and the release gives them to the recalled order."""
    make_lot(product, "L-BAD", {DRUM: 2})
    recalled = place(customer, DRUM, 2)
    summary = signed_recall("L-BAD", "Foreign particles")
    db.session.commit()
    assert list(summary.backordered) == [recalled.number] and summary.flagged == {}
    assert waiting_units(recalled)[0] == 2
    assert inventory.check_ledger() == []

    make_lot(product, "L-NEXT", {DRUM: 2})  # released
    assert waiting_units(recalled) == (0, [("L-NEXT", 2)])
    assert inventory.check_ledger() == []
    newcomer = make_customer("new@example.com", "New Ltd")
    with pytest.raises(InsufficientStock):  # the released drums are the recalled order's: none is free
        place(newcomer, DRUM, 2)
    db.session.rollback()
    assert inventory.check_ledger() == []
    (event,) = events("order.backorder_allocated")
    assert event["number"] == recalled.number


def test_a_recall_backorder_waits_for_a_release_that_fits_its_rules(app, product, customer):
    make_lot(product, "L-BAD", {DRUM: 3}, expires_in_days=800)
    order = place(customer, DRUM, 3, min_days=365)
    signed_recall("L-BAD", "Foreign particles")
    db.session.commit()
    make_lot(product, "L-SOON", {DRUM: 5}, expires_in_days=200)  # too short-dated for the order
    assert waiting_units(order) == (3, [])
    assert events("order.backorder_allocated") == []
    make_lot(product, "L-LATER", {DRUM: 5}, expires_in_days=700)
    assert waiting_units(order) == (0, [("L-LATER", 3)])
    assert inventory.check_ledger() == []


def test_a_release_serves_no_closed_order(app, product, customer):
    make_lot(product, "L-NOW", {DRUM: 2})
    cancelled = backordered(customer, 1, 2)
    ordering.cancel_order(cancelled.number)
    db.session.commit()
    make_lot(product, "L-NEW", {DRUM: 2})
    assert waiting_units(cancelled)[1] == []
    assert events("order.backorder_allocated") == []


def test_the_dashboard_and_the_backorders_page_show_what_waits(app, client, product, customer):
    make_lot(product, "L-NOW", {DRUM: 3, "LEU-USP-1KG": 5})
    older = backordered(customer, 1, 4, ago=60)
    newer = backordered(make_customer("new@example.com", "New Ltd"), 1, 2, ago=5)
    plain = place(customer, "LEU-USP-1KG", 1)
    sign_in(client, "fulfilment")
    dashboard = text_of(client.get("/staff/").text)
    oldest = f"{older.placed_at:%Y-%m-%d %H:%M} UTC"
    assert (f"Backorders 6 Units open orders wait for, per SKU: the next release of the pack size allocates them, "
            f"oldest order first. SKU Units backordered Orders Oldest order placed LEU-USP-25KG 6 2 {oldest} "
            "The orders waiting on stock") in dashboard
    page = client.get("/staff/backorders")
    assert page.status_code == 200
    html, text = page.text, text_of(page.text)
    assert f"LEU-USP-25KG 6 2 {oldest}" in text
    assert text.index(older.number) < text.index(newer.number) and plain.number not in text
    assert f"{older.number} {oldest}" in text and "LEU-USP-25KG: 4 units 4" in text
    assert f'href="/staff/orders/{older.number}"' in html
    assert 'href="/staff/backorders"' in client.get("/staff/orders").text  # the nav link
    assert client.get("/staff/backorders?cursor=nonsense").status_code == 400


def test_the_backorders_page_costs_the_same_statements_for_more_orders(app, client, product, customer):
    make_lot(product, "L-NOW", {DRUM: 30})
    sign_in(client, "fulfilment")
    backordered(customer, 1, 1)
    few = page_statements(client, "/staff/backorders"), page_statements(client, "/staff/")
    for _ in range(20):
        backordered(customer, 1, 1)
    assert (page_statements(client, "/staff/backorders"), page_statements(client, "/staff/")) == few


def test_the_backorders_page_is_for_fulfilment(app, client):
    sign_in(client, "quality")
    assert client.get("/staff/backorders").status_code == 403


def test_a_lot_released_by_import_batch_fills_backorders_in_the_same_transaction(app, runner, product, customer,
                                                                                  tmp_path):
    make_lot(product, "L-NOW", {DRUM: 1})
    order = backordered(customer, 1, 2)
    make_staff("quality")
    lot = {"product": product.slug, "lot_number": "IMP-B", "manufactured_on": date.today().isoformat(),
           "expires_on": (date.today() + timedelta(days=900)).isoformat(), "units": {DRUM: 5},
           "results": good_results(product)}
    path = tmp_path / "lot.json"
    path.write_text(json.dumps(lot))
    result = runner.invoke(args=["shop", "import-batch", str(path), "--release", "--signed-by",
                                 "quality@shop.example"], input="staff password\n")
    assert result.exit_code == 0, result.output
    assert waiting_units(order) == (0, [("IMP-B", 2), ("L-NOW", 1)])
    assert [e["number"] for e in events("order.backorder_allocated")] == [order.number]
    assert inventory.check_ledger() == []


def test_an_order_whose_open_units_are_all_backordered_offers_no_ship_form(app, client, product, customer):
    """Shipped what it held; the rest waits for a lot. The page says nothing can ship now instead of a form whose only
    answer would be "Choose at least one unit to ship"."""
    make_lot(product, "L-NOW", {DRUM: 3})
    order = backordered(customer, 1, 2)
    ordering.confirm_order(order.number)
    db.session.commit()
    ship_paid(order.number, "JJD-1")
    db.session.commit()
    sign_in(client, "fulfilment")
    page = text_of(client.get(f"/staff/orders/{order.number}").text)
    assert "Nothing to ship now Every unit still to come is backordered" in page
    assert "Ship these units" not in page and "Ship the rest" not in page
