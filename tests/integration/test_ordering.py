"""The order engine's stages on their own: the planner's properties, the life cycle's table, and the two
write paths writing the same rows."""
from __future__ import annotations

import dataclasses
import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shop import ordering
from shop.catalog import price_lists
from shop.catalog.models import Product
from shop.inventory.availability import sellable_after
from shop.inventory.models import Stock, StockMovement
from shop.ordering import checks, lifecycle, persistence, pg_write, placing, planner, reading, rows
from shop.ordering.models import Allocation, IdempotencyRecord, Order, OrderLine, OrderStatus, OrderStatusChange
from shop.platform.database import utcnow
from shop.platform.errors import Forbidden, IllegalTransition, InsufficientStock
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from shop.platform.tx import run_in_transaction
from tests.support.api import ADDRESS
from tests.support.factories import make_lot, make_product, make_staff

TODAY = date(2026, 1, 1)

# --- The planner: random lots and needs ------------------------------------------------------------------

lots_strategy = st.lists(
    st.builds(lambda i, variant, batch, days, free: planner.StockLot(i, variant, batch, TODAY + timedelta(days=days),
                                                                      free),
              st.just(0), st.integers(1, 3), st.integers(1, 6), st.integers(-5, 400), st.integers(1, 50)),
    max_size=12,
).map(lambda lots: [dataclasses.replace(lot, stock_id=i + 1) for i, lot in enumerate(lots)])
needs_strategy = st.lists(
    st.builds(planner.Need, st.just(0), st.integers(1, 3), st.integers(1, 120),
              st.integers(0, 300).map(lambda d: TODAY + timedelta(days=d)), st.booleans()),
    min_size=1, max_size=5,
).map(lambda needs: [dataclasses.replace(need, key=i) for i, need in enumerate(needs)])


def _left_after(plan: planner.Plan, lots: list[planner.StockLot]) -> dict[int, int]:
    left = {lot.stock_id: lot.free for lot in lots}
    for pick in plan.picks:
        left[pick.stock_id] -= pick.quantity
    return left


@settings(max_examples=300, deadline=None)
@given(lots=lots_strategy, needs=needs_strategy)
def test_the_planner_never_takes_more_than_a_lot_has_nor_a_lot_that_expires_too_soon(lots, needs):
    plan = planner.plan(needs, lots)
    assert all(units >= 0 for units in _left_after(plan, lots).values())
    by_key = {need.key: need for need in needs}
    for pick in plan.picks:
        need = by_key[pick.key]
        assert pick.quantity > 0
        assert pick.lot.variant_id == need.variant_id
        assert pick.lot.expires_on > need.not_before


@settings(max_examples=300, deadline=None)
@given(lots=lots_strategy, needs=needs_strategy)
def test_the_planner_prefers_the_earlier_expiry(lots, needs):
    """A need never draws on a lot while a lot that it could use and that expires earlier keeps units."""
    plan = planner.plan(needs, lots)
    left = _left_after(plan, lots)
    order = {lot.stock_id: i for i, lot in enumerate(planner.fefo(lots))}
    for pick in plan.picks:
        need = next(n for n in needs if n.key == pick.key)
        if need.single_lot:
            continue  # one lot per line: the earliest that can fill it whole, checked below
        for lot in lots:
            if (lot.variant_id == need.variant_id and planner.within_shelf_life(need, lot)
                    and order[lot.stock_id] < order[pick.stock_id]):
                assert left[lot.stock_id] == 0


@settings(max_examples=300, deadline=None)
@given(lots=lots_strategy, needs=needs_strategy)
def test_the_shortfall_is_exactly_what_could_not_be_found(lots, needs):
    plan = planner.plan(needs, lots)
    left = _left_after(plan, lots)
    for need in needs:
        picked = [p for p in plan.picks if p.key == need.key]
        got = sum(p.quantity for p in picked)
        assert got + plan.missing.get(need.key, 0) == need.quantity
        if need.single_lot:
            assert len(picked) <= 1
        elif need.key in plan.missing:  # short only when every lot it could use is used up
            assert all(left[lot.stock_id] == 0 for lot in lots
                       if lot.variant_id == need.variant_id and planner.within_shelf_life(need, lot))


def _pack(sku: str, variant_id: int, lots: list[planner.StockLot]) -> reading.PackSize:
    return reading.PackSize(variant_id, sku, True, 1, Decimal("10.00"), None,
                            [dataclasses.replace(lot, variant_id=variant_id, stock_id=100 * variant_id + lot.stock_id)
                             for lot in lots])


@settings(max_examples=200, deadline=None)
@given(lots=st.lists(lots_strategy, min_size=3, max_size=3),
       quantities=st.lists(st.integers(1, 150), min_size=1, max_size=3))
def test_placing_plans_all_or_nothing(lots, quantities):
    """Either every line gets all its units, or InsufficientStock names exactly the short lines, with what
    could be found for each."""
    skus = [f"SKU-{i}" for i in range(len(quantities))]
    pack_sizes = {sku: _pack(sku, i + 1, lots[i]) for i, sku in enumerate(skus)}
    lines = tuple(checks.LineRequest(sku, q) for sku, q in zip(skus, quantities, strict=True))
    request = checks.OrderRequest(1, 1, lines, {}, "", 0)
    expires_after = TODAY + timedelta(days=100)
    try:
        plan = placing.plan_allocation(request, pack_sizes, expires_after)
    except InsufficientStock as refused:
        for short in refused.short:
            eligible = sum(lot.free for lot in lots[skus.index(short.sku)] if lot.expires_on > expires_after)
            assert short.available == eligible < short.requested
        assert {s.sku for s in refused.short} == {
            sku for sku, q in zip(skus, quantities, strict=True)
            if sum(lot.free for lot in lots[skus.index(sku)] if lot.expires_on > expires_after) < q}
    else:
        for position, quantity in enumerate(quantities):
            assert sum(p.quantity for p in plan.picks if p.key == position) == quantity


def test_one_lot_per_line_takes_the_earliest_lot_that_fills_it_whole():
    lots = [planner.StockLot(1, 1, 1, TODAY + timedelta(days=100), 3),
            planner.StockLot(2, 1, 2, TODAY + timedelta(days=200), 8),
            planner.StockLot(3, 1, 3, TODAY + timedelta(days=300), 9)]
    plan = planner.plan([planner.Need("a", 1, 5, TODAY, single_lot=True)], lots)
    assert [(p.stock_id, p.quantity) for p in plan.picks] == [(2, 5)]


def test_a_rule_can_pin_a_lot():
    lots = [planner.StockLot(1, 1, 1, TODAY + timedelta(days=100), 3, "EARLY"),
            planner.StockLot(2, 1, 2, TODAY + timedelta(days=200), 8, "PINNED")]

    def pinned(need, lot):
        return lot.lot_number == "PINNED"

    plan = planner.plan([planner.Need("a", 1, 5, TODAY)], lots, rules=(*planner.DEFAULT_RULES, pinned))
    assert [(p.lot.lot_number, p.quantity) for p in plan.picks] == [("PINNED", 5)]


# --- The life cycle ---------------------------------------------------------------------------------------

DRUM = "LEU-USP-25KG"


def _placed(customer) -> Order:
    return run_in_transaction(ordering.place_order, customer, [{"sku": DRUM, "quantity": 1}], ADDRESS)


def test_every_transition_names_who_may_make_it(app, product, customer):
    make_lot(product, "LOT-A", {DRUM: 5})
    order = _placed(customer)
    warehouse = make_staff("warehouse")
    with pytest.raises(Forbidden):
        lifecycle.move(order, OrderStatus.CONFIRMED, lifecycle.Actor.of(warehouse))
    with pytest.raises(Forbidden):
        lifecycle.move(order, OrderStatus.CONFIRMED, lifecycle.Actor.of(customer=customer))
    with pytest.raises(IllegalTransition):
        lifecycle.move(order, OrderStatus.DELIVERED, lifecycle.Actor.of(make_staff("admin")))
    assert order.status == OrderStatus.PENDING and len(order.history) == 1
    fulfilment = make_staff("fulfilment")
    change = lifecycle.move(order, OrderStatus.CONFIRMED, lifecycle.Actor.of(fulfilment), "ok")
    assert (order.status, change.from_status, change.staff_id, change.note) == (
        OrderStatus.CONFIRMED, OrderStatus.PENDING, fulfilment.id, "ok")
    db.session.rollback()


def test_the_table_lists_each_status_change_once():
    pairs = [(t.source, t.target) for t in ordering.TRANSITIONS]
    assert len(pairs) == len(set(pairs))
    assert all(t.roles for t in ordering.TRANSITIONS)


# --- The two write paths ----------------------------------------------------------------------------------

def _order_rows(customer, lines=({"sku": DRUM, "quantity": 4}, {"sku": "LEU-USP-1KG", "quantity": 3}), *,
                shelf_life: int | None = 120, pricing: ordering.PricingPolicy = ordering.CONTRACT_PRICES,
                status: OrderStatus = OrderStatus.AWAITING_APPROVAL, share: int = 2,
                number: str = "LS-PLAIN") -> rows.OrderRows:
    """The rows of an order as placing builds them, planned from 1/`share` of each lot's free units (2: so that
    the stock can be taken twice). By default one that spans two lots on each line, its drums at the company's
    contract price, awaiting approval."""
    request, errors = checks.check_request(customer.id, customer.company_id, list(lines), ADDRESS, "PO-1", shelf_life)
    assert not errors
    expires_after = sellable_after(request.shelf_life_days or 0)
    packs = reading.read_pack_sizes(db.session.connection(), request.quantities(), expires_after,
                                    customer.company_id, price_lists.today())
    shared = {sku: dataclasses.replace(pack, lots=[dataclasses.replace(lot, free=lot.free // share)
                                                   for lot in pack.lots])
              for sku, pack in packs.items()}
    prices = [pricing.price(packs[line.sku], line.quantity) for line in request.lines]
    plan = placing.plan_allocation(request, shared, expires_after)
    return rows.order_rows(request, {sku: p.id for sku, p in packs.items()}, prices, plan, number=number,
                           currency="EUR", now=utcnow().replace(microsecond=0), expires_after=expires_after,
                           status=status)


def _event(order_rows: rows.OrderRows) -> dict[str, object]:
    """The order.placed outbox row written with the order."""
    number = order_rows.order["number"]
    return {"event_id": f"msg_{number}", "type": "order.placed", "customer_id": order_rows.order["customer_id"],
            "subject": number, "data": '{"number": "LS"}', "created_at": order_rows.placed_at,
            "webhooks_fanned_out_at": None}


def _record(order_rows: rows.OrderRows) -> dict[str, object]:
    """An Idempotency-Key's record written with the order."""
    return {"company_id": order_rows.order["company_id"], "key": order_rows.order["number"], "method": "POST",
            "path": "/api/v1/orders", "fingerprint": "f" * 64, "response_status": 201, "response_body": "{}",
            "response_headers": "{}", "created_at": order_rows.placed_at}


def _written(number: str, *, numbered: bool = False) -> dict[str, list]:
    """Every row the write of order `number` wrote, without ids; with `numbered` (both writes used the same number)
    the number and what names it (the ledger's reason, the record's key, the event's id and subject) too."""
    order = db.session.scalar(select(Order).where(Order.number == number))
    db.session.refresh(order)
    named = () if numbered else ("number", "reason", "key", "event_id", "subject")

    def plain(obj) -> dict:
        return {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs
                if c.key not in {"id", "order_id", "order_line_id", *named}}

    lines = list(db.session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)))
    return {
        "order": [plain(order)],
        "lines": [plain(line) for line in lines],
        "allocations": [plain(a) for a in db.session.scalars(select(Allocation).where(
            Allocation.order_line_id.in_([line.id for line in lines])).order_by(Allocation.id))],
        "changes": [plain(c) for c in db.session.scalars(
            select(OrderStatusChange).where(OrderStatusChange.order_id == order.id))],
        "movements": [plain(m) for m in db.session.scalars(
            select(StockMovement).where(StockMovement.order_id == order.id).order_by(StockMovement.id))],
        "records": [plain(r) for r in db.session.scalars(
            select(IdempotencyRecord).where(IdempotencyRecord.key == number))],
        "events": [plain(e) for e in db.session.scalars(
            select(OutboxEvent).where(OutboxEvent.subject == number))],
    }


def test_the_one_statement_write_writes_the_rows_of_the_plain_path(app, backend, product, customer):
    if backend != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's")
    make_lot(product, "EARLY", {DRUM: 6, "LEU-USP-1KG": 5}, expires_in_days=200)
    make_lot(product, "LATE", {DRUM: 10, "LEU-USP-1KG": 5}, expires_in_days=500)
    price_lists.create_price_list(customer.company, "Contract", "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\n")
    allocated_before = {s.id: s.allocated for s in db.session.scalars(select(Stock))}
    plain_rows = _order_rows(customer)
    assert [line["price_list_id"] is not None for line in plain_rows.lines] == [True, False]  # contract, list
    one_rows = dataclasses.replace(plain_rows, order={**plain_rows.order, "number": "LS-ONE"})
    conn = db.session.connection()
    for order_rows, write in ((plain_rows, persistence.write_order), (one_rows, pg_write.write_order)):
        write(conn, order_rows, _event(order_rows), _record(order_rows))
    db.session.expire_all()
    plain, one = _written("LS-PLAIN"), _written("LS-ONE")
    assert [len(written) for written in plain.values()] == [1, 2, 4, 1, 4, 1, 1]
    assert one == plain
    taken = {s.id: s.allocated - allocated_before[s.id] for s in db.session.scalars(select(Stock))}
    assert sorted(units for units in taken.values() if units) == [2, 2, 4, 6]  # each path took the same
    db.session.rollback()


SKUS = ("LEU-USP-1KG", DRUM, "LEU-FCC-1KG", "LEU-FCC-25KG")
# A lot of either product: its expiry in days and its units of each of the product's two pack sizes (one at least).
lots_to_receive = st.lists(
    st.tuples(st.sampled_from(("l-leucine-usp", "l-leucine-fcc")), st.integers(20, 900),
              st.tuples(st.integers(0, 12), st.integers(0, 12)).filter(any)),
    min_size=1, max_size=4)
order_lines = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 20)), min_size=1, max_size=4,
                       unique_by=lambda line: line[0])
shelf_lives = st.none() | st.integers(0, 400)  # None: the shop's default
policies = st.sampled_from((ordering.CONTRACT_PRICES, ordering.PUBLIC_PRICES))


def _receive_released(lots: list[tuple[str, int, tuple[int, int]]]) -> None:
    """Receive and release the lots, uncommitted: the example rolls them back."""
    for i, (slug, expires_in_days, (bags, drums)) in enumerate(lots):
        product = db.session.scalar(select(Product).where(Product.slug == slug))
        prefix = product.variants[0].sku.rsplit("-", 1)[0]
        make_lot(product, f"P{i}", {f"{prefix}-1KG": bags, f"{prefix}-25KG": drums}, expires_in_days=expires_in_days,
                 commit=False)


def _free(customer, lines: list[tuple[str, int]], shelf_life: int | None) -> dict[str, int]:
    """Units of each SKU that an order with this shelf life could draw now."""
    request, _ = checks.check_request(customer.id, customer.company_id,
                                      [{"sku": sku, "quantity": n} for sku, n in lines], ADDRESS, None, shelf_life)
    packs = reading.read_pack_sizes(db.session.connection(), request.quantities(),
                                    sellable_after(request.shelf_life_days), customer.company_id, price_lists.today())
    return {sku: sum(lot.free for lot in pack.lots) for sku, pack in packs.items()}


def _stock_levels() -> dict[int, tuple[int, int]]:
    return {s.id: (s.on_hand, s.allocated) for s in db.session.scalars(select(Stock).order_by(Stock.id))}


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("with_record", "status"), list(itertools.product(
    (False, True), (OrderStatus.PENDING, OrderStatus.AWAITING_APPROVAL))))
def test_the_one_statement_write_writes_the_rows_of_the_plain_path_for_any_order(app, backend, product, customer,
                                                                                   with_record, status):
    """Property, for each statement pg_write builds: over generated orders (lines, quantities, lots, shelf life,
    contract or public price), both write paths leave the same rows in every table the write touches (the order,
    its lines, allocations, first status change, ledger rows, event and record, and the stock). Each example is
    written by each path in turn inside a SAVEPOINT rolled back after it, so both start from the same stock."""
    make_product("l-leucine-fcc", "FCC", "LEU-FCC")
    price_lists.create_price_list(customer.company, "Contract", "sku,min_quantity,unit_price\n"
                                  "LEU-USP-25KG,1,1700.00\nLEU-USP-25KG,8,1600.00\nLEU-FCC-1KG,1,80.00\n")
    db.session.commit()

    @settings(max_examples=7, deadline=None, database=None)
    @given(lots=lots_to_receive, lines=order_lines, shelf_life=shelf_lives, pricing=policies)
    def both_paths_write_the_same_rows(lots, lines, shelf_life, pricing):
        received = db.session.begin_nested()
        try:
            _receive_released(lots)
            free = _free(customer, lines, shelf_life)
            fillable = [{"sku": sku, "quantity": min(n, free[sku])} for sku, n in lines if free[sku]]
            assume(fillable)
            order_rows = _order_rows(customer, fillable, shelf_life=shelf_life, pricing=pricing, status=status,
                                     share=1, number="LS-PROP")
            written = []
            for write in (persistence.write_order, pg_write.write_order):
                attempt = db.session.begin_nested()
                write(db.session.connection(), order_rows, _event(order_rows),
                      _record(order_rows) if with_record else None)
                db.session.expire_all()
                written.append((_written("LS-PROP", numbered=True), _stock_levels()))
                attempt.rollback()
        finally:
            received.rollback()
        (plain, plain_stock), (one, one_stock) = written
        assert len(plain["allocations"]) == len(plain["movements"]) == len(order_rows.picks)
        assert len(plain["records"]) == with_record and plain["order"][0]["status"] == status
        assert one == plain
        assert one_stock == plain_stock

    both_paths_write_the_same_rows()
    db.session.rollback()
