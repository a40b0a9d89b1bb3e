"""The order service: pricing, FEFO allocation across lots, all-or-nothing shortfalls, the life cycle."""
from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.catalog import price_lists
from shop.catalog.models import Variant
from shop.inventory import availability
from shop.inventory import lots as inventory
from shop.inventory.models import MovementKind, Stock, StockMovement
from shop.ordering import pg_write, planner
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderStatus
from shop.platform.errors import IllegalTransition, InsufficientStock, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.tx import run_in_transaction
from tests.support.billing import ship_paid
from tests.support.factories import make_customer, make_lot

ADDRESS = {"name": "Goods in, Dock 4", "line1": "Hafenstrasse 1", "city": "Hamburg", "postal_code": "20457",
           "country": "DE"}
DRUM, BAG = "LEU-USP-25KG", "LEU-USP-1KG"


def place(customer, *lines, **kwargs):
    return run_in_transaction(ordering.place_order, customer, [{"sku": s, "quantity": q} for s, q in lines],
                              ADDRESS, **kwargs)


def drawn(order) -> list[tuple[str, str, int]]:
    return [(line.sku, a.stock.batch.lot_number, a.quantity) for line in order.lines for a in line.allocations]


def variant_of(sku: str) -> Variant:
    return db.session.scalar(select(Variant).where(Variant.sku == sku))


def available(sku: str) -> int:
    variant = variant_of(sku)
    return availability.available_by_variant([variant.id]).get(variant.id, 0)


def test_order_is_priced_and_totalled(app, product, customer):
    make_lot(product, "LOT-A", {DRUM: 20, BAG: 50})
    order = place(customer, (DRUM, 2), (BAG, 3), purchase_order="PO-7781")
    assert order.number.startswith("LS-")
    assert order.status == OrderStatus.PENDING
    assert [(ln.sku, ln.unit_price, ln.line_total) for ln in order.lines] == [
        (DRUM, Decimal("1950.00"), Decimal("3900.00")),
        (BAG, Decimal("96.00"), Decimal("288.00")),
    ]
    assert order.subtotal == Decimal("4188.00")
    assert (order.vat_rule, order.vat_rate, order.vat) == ("domestic", Decimal("19.00"), Decimal("795.72"))
    assert order.total == Decimal("4983.72")  # shipped within Germany: 19 % on the sum of the lines
    assert order.purchase_order == "PO-7781"
    assert order.currency == app.config["SHOP_CURRENCY"]


@pytest.mark.parametrize(("quantity", "unit_price"), [(3, "1950.00"), (4, "1850.00"), (9, "1850.00"),
                                                      (10, "1760.00")])
def test_price_break_applies_from_its_quantity(app, product, customer, quantity, unit_price):
    make_lot(product, "LOT-A", {DRUM: 20})
    order = place(customer, (DRUM, quantity))
    assert order.lines[0].unit_price == Decimal(unit_price)
    assert order.subtotal == Decimal(unit_price) * quantity


def test_fefo_takes_the_earliest_expiring_lot_first_and_spans_lots(app, product, customer):
    make_lot(product, "LATE", {DRUM: 10}, expires_in_days=900)
    make_lot(product, "EARLY", {DRUM: 3}, expires_in_days=200)
    make_lot(product, "MIDDLE", {DRUM: 4}, expires_in_days=400)
    first = place(customer, (DRUM, 2))
    assert drawn(first) == [(DRUM, "EARLY", 2)]
    second = place(customer, (DRUM, 6))
    assert drawn(second) == [(DRUM, "EARLY", 1), (DRUM, "MIDDLE", 4), (DRUM, "LATE", 1)]
    assert available(DRUM) == 9


def test_minimum_shelf_life_skips_lots_expiring_sooner(app, product, customer):
    make_lot(product, "SOON", {DRUM: 10}, expires_in_days=60)
    make_lot(product, "LATER", {DRUM: 10}, expires_in_days=500)
    order = place(customer, (DRUM, 3), min_remaining_shelf_life_days=180)
    assert drawn(order) == [(DRUM, "LATER", 3)]
    assert order.min_remaining_shelf_life_days == 180
    with pytest.raises(InsufficientStock) as short:
        place(customer, (DRUM, 8), min_remaining_shelf_life_days=180)
    assert short.value.short[0].available == 7


@pytest.mark.parametrize("status", ["quarantine", "rejected", "recalled"])
def test_unreleased_lots_are_never_allocated(app, product, customer, status):
    make_lot(product, "HELD", {DRUM: 10}, status=status, expires_in_days=100)
    make_lot(product, "GOOD", {DRUM: 2}, expires_in_days=800)
    with pytest.raises(InsufficientStock) as short:
        place(customer, (DRUM, 3))
    assert short.value.short[0].available == 2
    assert drawn(place(customer, (DRUM, 2))) == [(DRUM, "GOOD", 2)]


def test_expired_lots_are_never_allocated(app, product, customer):
    make_lot(product, "EXPIRED", {DRUM: 10}, expires_in_days=-1)
    make_lot(product, "TODAY", {DRUM: 10}, expires_in_days=0)
    assert available(DRUM) == 0
    with pytest.raises(InsufficientStock):
        place(customer, (DRUM, 1))


def test_short_order_changes_nothing_and_names_every_short_line(app, product, customer):
    make_lot(product, "LOT-A", {DRUM: 5, BAG: 100})
    ledger_before = db.session.scalar(select(func.count(StockMovement.id)))
    with pytest.raises(InsufficientStock) as short:
        place(customer, (BAG, 10), (DRUM, 6))
    assert [(s.sku, s.requested, s.available) for s in short.value.short] == [(DRUM, 6, 5)]
    assert "LEU-USP-25KG (requested 6, available 5)" in short.value.message
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert db.session.scalar(select(func.sum(Stock.allocated))) == 0
    assert db.session.scalar(select(func.count(StockMovement.id))) == ledger_before


def test_allocation_writes_ledger_rows_and_keeps_the_ledger_balanced(app, product, customer):
    make_lot(product, "L1", {DRUM: 2}, expires_in_days=100)
    make_lot(product, "L2", {DRUM: 5}, expires_in_days=300)
    order = place(customer, (DRUM, 4))
    rows = db.session.scalars(select(StockMovement).where(StockMovement.order_id == order.id)).all()
    assert sorted((r.kind, r.allocated_delta) for r in rows) == [(MovementKind.ALLOCATION, 2)] * 2
    assert inventory.check_ledger() == []


def test_cancel_releases_the_allocation(app, product, customer):
    make_lot(product, "L1", {DRUM: 5})
    order = place(customer, (DRUM, 5))
    assert available(DRUM) == 0
    run_in_transaction(ordering.cancel_order, order.number, customer=customer)
    assert available(DRUM) == 5
    order = ordering.get_order(order.number)
    assert order.status == OrderStatus.CANCELLED
    assert {a.status for a in order.lines[0].allocations} == {AllocationStatus.RETURNED_CANCELLED}
    assert [h.to_status for h in order.history] == [OrderStatus.PENDING, OrderStatus.CANCELLED]
    assert inventory.check_ledger() == []


def test_ship_turns_the_allocation_into_a_shipment(app, product, customer):
    batch = make_lot(product, "L1", {DRUM: 5})
    order = place(customer, (DRUM, 3))
    run_in_transaction(ordering.confirm_order, order.number)
    run_in_transaction(ship_paid, order.number, "DHL 00340434161094042557")
    stock = db.session.get(Stock, batch.stocks[0].id)
    db.session.refresh(stock)
    assert (stock.on_hand, stock.allocated) == (2, 0)
    shipped = ordering.get_order(order.number)
    assert shipped.status == OrderStatus.SHIPPED
    assert shipped.tracking_reference == "DHL 00340434161094042557"
    run_in_transaction(ordering.deliver_order, order.number)
    assert ordering.get_order(order.number).status == OrderStatus.DELIVERED
    assert inventory.check_ledger() == []


def test_shipping_needs_a_tracking_reference(app, product, customer):
    make_lot(product, "L1", {DRUM: 5})
    order = place(customer, (DRUM, 1))
    run_in_transaction(ordering.confirm_order, order.number)
    with pytest.raises(InvalidInput) as missing:
        run_in_transaction(ship_paid, order.number, "  ")
    assert "tracking_reference" in missing.value.errors


@pytest.mark.parametrize(("path", "action"), [
    ([], lambda n: ship_paid(n, "T1")),  # pending cannot ship
    ([], lambda n: ordering.deliver_order(n)),
    (["confirm"], lambda n: ordering.confirm_order(n)),
    (["confirm", "ship"], lambda n: ordering.cancel_order(n)),
    (["cancel"], lambda n: ordering.confirm_order(n)),
    (["cancel"], lambda n: ordering.cancel_order(n)),
    (["confirm", "ship", "deliver"], lambda n: ship_paid(n, "T2")),
])
def test_illegal_transitions_are_refused_and_change_nothing(app, product, customer, path, action):
    make_lot(product, "L1", {DRUM: 5})
    order = place(customer, (DRUM, 1))
    steps = {"confirm": ordering.confirm_order, "ship": lambda n: ship_paid(n, "T0"),
             "cancel": ordering.cancel_order, "deliver": ordering.deliver_order}
    for step in path:
        run_in_transaction(steps[step], order.number)
    before = ordering.get_order(order.number).status
    with pytest.raises(IllegalTransition):
        run_in_transaction(action, order.number)
    db.session.expire_all()
    assert ordering.get_order(order.number).status == before
    assert inventory.check_ledger() == []


def test_a_customer_cannot_cancel_another_customers_order(app, product, customer):
    make_lot(product, "L1", {DRUM: 5})
    order = place(customer, (DRUM, 1))
    other = make_customer("other@example.com", "Other Co")
    with pytest.raises(NotFound):
        run_in_transaction(ordering.cancel_order, order.number, customer=other)
    assert ordering.get_order(order.number).status == OrderStatus.PENDING


@pytest.mark.parametrize(("lines", "field"), [
    ([], "lines"),
    ([{"sku": DRUM, "quantity": 0}], "lines.0.quantity"),
    ([{"sku": DRUM, "quantity": -1}], "lines.0.quantity"),
    ([{"sku": DRUM, "quantity": 1.5}], "lines.0.quantity"),
    ([{"sku": DRUM, "quantity": "2"}], "lines.0.quantity"),
    ([{"sku": DRUM, "quantity": True}], "lines.0.quantity"),
    ([{"sku": BAG, "quantity": 1}, {"sku": "LEU-NOPE", "quantity": 1}], "lines.1.sku"),
    ([{"sku": DRUM, "quantity": 1}, {"sku": DRUM, "quantity": 2}], "lines.1.sku"),
    ([{"sku": DRUM, "quantity": 1}] * 101, "lines"),
])
def test_invalid_lines_are_refused_with_their_field_path(app, product, customer, lines, field):
    make_lot(product, "L1", {DRUM: 5, BAG: 5})
    with pytest.raises(InvalidInput) as invalid:
        run_in_transaction(ordering.place_order, customer, lines, ADDRESS)
    assert field in invalid.value.errors
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_minimum_order_quantity_is_enforced(app, product, customer):
    variant_of(DRUM).min_order_quantity = 2
    db.session.commit()
    make_lot(product, "L1", {DRUM: 5})
    with pytest.raises(InvalidInput) as invalid:
        place(customer, (DRUM, 1))
    assert invalid.value.errors["lines.0.quantity"] == ["The minimum order for LEU-USP-25KG is 2 units."]


@pytest.mark.parametrize(("change", "field"), [
    ({"city": ""}, "shipping_address.city"),
    ({"postal_code": None}, "shipping_address.postal_code"),
    ({"country": "XX"}, "shipping_address.country"),
    ({"country": "Germany"}, "shipping_address.country"),
    ({"name": "x" * 201}, "shipping_address.name"),
])
def test_invalid_address_is_refused_with_its_field_path(app, product, customer, change, field):
    make_lot(product, "L1", {DRUM: 5})
    with pytest.raises(InvalidInput) as invalid:
        run_in_transaction(ordering.place_order, customer, [{"sku": DRUM, "quantity": 1}], ADDRESS | change)
    assert field in invalid.value.errors


def test_country_code_is_normalised(app, product, customer):
    make_lot(product, "L1", {DRUM: 5})
    order = run_in_transaction(ordering.place_order, customer, [{"sku": DRUM, "quantity": 1}],
                               ADDRESS | {"country": "de"})
    assert order.ship_country == "DE"


def test_orders_list_newest_first_with_keyset_pages(app, product, customer):
    make_lot(product, "L1", {BAG: 50})
    numbers = [place(customer, (BAG, 1)).number for _ in range(5)]
    first = ordering.list_orders(company_id=customer.company_id, limit=2)
    assert [o.number for o in first] == numbers[::-1][:2]
    rest = ordering.list_orders(company_id=customer.company_id, limit=10, after=(first[-1].placed_at, first[-1].id))
    assert [o.number for o in rest] == numbers[::-1][2:]
    assert db.session.scalar(select(func.count(Allocation.id))) == 5


@pytest.mark.parametrize("competitor", [
    pytest.param(  # a rival's allocation, written without its ledger movement
        "UPDATE stock SET allocated = on_hand WHERE batch_id = (SELECT id FROM batch WHERE lot_number = 'EARLY')",
        marks=pytest.mark.tampers_ledger),
    "UPDATE batch SET status = 'recalled' WHERE lot_number = 'EARLY'",
])
def test_an_order_that_loses_a_race_is_planned_again(app, backend, product, customer, monkeypatch, competitor):
    """Between our unlocked read and our conditional UPDATE another transaction takes the drums (or recalls
    the lot) and commits: the order must not draw on them, and is re-planned from what is left."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: no other transaction can commit in between")
    from sqlalchemy import text

    from shop.platform import tx

    make_lot(product, "EARLY", {DRUM: 3}, expires_in_days=100)
    make_lot(product, "LATE", {DRUM: 5}, expires_in_days=300)
    real_plan, attempts = planner.plan, []

    def plan_then_lose(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        attempts.append(tx.attempt())
        if len(attempts) == 1:
            with db.engine.connect() as other:
                other.execute(text(competitor))
                other.commit()
        return plan

    monkeypatch.setattr(planner, "plan", plan_then_lose)
    order = place(customer, (DRUM, 2))
    assert attempts == [1, 2]
    assert drawn(order) == [(DRUM, "LATE", 2)]


def test_a_third_try_locks_the_candidate_rows_first_and_allocates_the_same(app, backend, product, customer,
                                                                          monkeypatch):
    """From the third try on, an order locks the stock rows it may draw from before it reads them (on
    PostgreSQL, FOR UPDATE in primary-key order): the order is priced and allocated exactly as on a first try."""
    from shop.platform import tx
    from tests.support.sql import count_statements

    make_lot(product, "EARLY", {DRUM: 3}, expires_in_days=100)
    make_lot(product, "LATE", {DRUM: 5}, expires_in_days=300)
    monkeypatch.setattr(tx, "attempt", lambda: 3)
    with count_statements() as seen:
        order = place(customer, (DRUM, 4))
    assert drawn(order) == [(DRUM, "EARLY", 3), (DRUM, "LATE", 1)]
    assert order.lines[0].unit_price == price_lists.variant_price(variant_of(DRUM), 4).unit_price
    locks = [s for s in seen if "FOR UPDATE" in s.upper()]
    assert len(locks) == (1 if backend == "postgresql" else 0)  # SQLite locks the whole database anyway
    if locks:
        assert "ORDER BY stock.id" in locks[0]
    assert available(DRUM) == 4


def test_the_one_statement_order_write_stays_cacheable_by_psycopg():
    """psycopg parses a statement once and reuses the result only while it has at most 50 parameters and
    4096 characters; past that, every order would pay for parsing it again. (A new column on an order table
    may push it over: write what is the same for every order as a literal, as the statement does.)"""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    for with_record, status in itertools.product((False, True), (OrderStatus.PENDING, OrderStatus.AWAITING_APPROVAL)):
        compiled = pg_write.statement(with_record, status).compile(dialect=dialect())
        assert len(str(compiled).encode()) <= MAX_CACHED_STATEMENT_LENGTH
        assert len(compiled.binds) <= MAX_CACHED_STATEMENT_PARAMS



def test_the_one_read_of_an_order_of_up_to_three_lines_stays_cacheable_by_psycopg():
    """The same for the one read of placing, with or without an idempotency key, on PostgreSQL (where a company
    with a credit limit has its exposure read by the claim of its row, not by this statement)."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    from shop.ordering import reading

    for skus, key_lock in itertools.product((1, 2, 3), (None, "none", "try", "wait")):
        compiled = reading._statement(skus, key_lock, True).compile(dialect=dialect())
        assert len(str(compiled).encode()) <= MAX_CACHED_STATEMENT_LENGTH, (skus, key_lock)
        assert len(compiled.binds) <= MAX_CACHED_STATEMENT_PARAMS, (skus, key_lock)

# --- One use case, one idempotency (issue #20) ----------------------------------------------------------

def test_placing_twice_with_the_same_key_and_order_gives_the_first_result_and_one_order_and_event(
        app, product, customer):
    """`ordering.place` called directly, as every adapter calls it: a second call with the key and the same
    order is the first call's result again, with no second order, stock taken twice or order.placed event."""
    from shop.platform.outbox import OutboxEvent

    make_lot(product, "L-1", {DRUM: 10})
    command = ordering.PlaceOrder(customer, [{"sku": DRUM, "quantity": 2}], ADDRESS, "PO-9")
    first = ordering.place(command, idempotency_key="use-case-1")
    again = ordering.place(command, idempotency_key="use-case-1")
    assert not first.replayed and again.replayed
    assert again.order == first.order and first.order["purchase_order"] == "PO-9"
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert db.session.scalar(select(func.count(OutboxEvent.id)).where(OutboxEvent.type == "order.placed")) == 1
    assert available(DRUM) == 8


def test_the_same_key_for_another_order_is_refused_and_a_refusal_is_kept_by_the_rules(app, product, customer):
    """Another order under a used key is KeyReused; a refusal is the key's outcome under the API's rules and
    not under a form's (whose corrected order may use its token again)."""
    from shop.ordering import idempotency

    make_lot(product, "L-1", {DRUM: 3})
    command = ordering.PlaceOrder(customer, [{"sku": DRUM, "quantity": 2}], ADDRESS)
    ordering.place(command, idempotency_key="use-case-2")
    with pytest.raises(idempotency.KeyReused):
        ordering.place(dataclasses.replace(command, purchase_order="PO-other"), idempotency_key="use-case-2")
    too_many = dataclasses.replace(command, lines=[{"sku": DRUM, "quantity": 5}])
    with pytest.raises(InsufficientStock):
        ordering.place(too_many, idempotency_key="api-key")
    with pytest.raises(idempotency.ReplayedRefusal) as replayed:
        ordering.place(too_many, idempotency_key="api-key")
    assert replayed.value.details() == {"short_lines": [{"sku": DRUM, "requested": 5, "available": 1}]}
    with pytest.raises(InsufficientStock):
        ordering.place(too_many, idempotency_key="form-token", rules=idempotency.FORM_RULES)
    placed = ordering.place(dataclasses.replace(command, lines=[{"sku": DRUM, "quantity": 1}]),
                            idempotency_key="form-token", rules=idempotency.FORM_RULES)
    assert not placed.replayed and ordering.placed_with_key(customer.company_id, "form-token").order == placed.order
    assert db.session.scalar(select(func.count(Order.id))) == 2
