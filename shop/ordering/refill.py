"""Allocate more units to orders that already exist, first-expired-first-out.

An order that already exists can need more units later: a recall took a lot away (quality.recall), or it is
short for another reason and fulfilment fills it (ordering.shortages). Both plan with the order engine's
planner (`ordering.planner.plan`, the one FEFO and shelf-life rule, which placing an order uses all or
nothing) through `plan` here, which adds placing's other rules: a pinned line draws from its lot only (a line
whose pinned lot is gone stays short), a single-lot order's line from one lot, and every line from lots that meet
its company's specification. It reads from the lots read here, and writes with `allocate` (the stock side
through inventory.ledger; `allocate_all` for many orders at once).
Candidate stock rows are locked in primary-key order, as cancelling, shipping and a third try of placing lock
them, so that those wait for each other instead of deadlocking. A first or second try of placing takes its rows
in the order its UPDATE finds them (see pg_write._take_stock): should that deadlock with a refill, PostgreSQL
aborts one of the two and platform/tx.py runs it again.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from shop.inventory import ledger
from shop.inventory.availability import default_shelf_life_days, sellable_after, sellable_lot_filter
from shop.inventory.models import Stock
from shop.ordering import planner
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine
from shop.ordering.planner import Need, StockLot
from shop.platform.extensions import db
from shop.specifications.service import Conformance, conformances


def shelf_life_days(order: Order) -> int:
    """The order's minimum remaining shelf life: what it asked for, else the shop's default."""
    asked = order.min_remaining_shelf_life_days
    return asked if asked is not None else default_shelf_life_days()


def not_before(order: Order) -> date:
    """The order's lots must expire after this date."""
    return sellable_after(shelf_life_days(order))


def need(key: object, order: Order, line: OrderLine, quantity: int) -> Need:
    """The units a line of an existing order needs more of, by its rules: shelf life, pinned lot, one lot."""
    return Need(key, line.variant_id, quantity, not_before(order), order.single_lot, line.lot_number)


def specifications(company_ids: Iterable[int], lots: Sequence[StockLot]) -> dict[int, Conformance]:
    """Which of `lots` meet each company's specification (one statement): for `plan`'s `specs`."""
    return conformances(set(company_ids), {lot.batch_id for lot in lots})


def plan(needs: Sequence[Need], lots: Sequence[StockLot], companies: Mapping[Hashable, int],
         specs: Mapping[int, Conformance] | None = None) -> planner.Plan:
    """The planner's plan for `needs` of existing orders (`companies`: each need's order's company, by its key):
    with the default rules and each company's specification (`specs`, else read here in one statement)."""
    if specs is None:
        specs = specifications(companies.values(), lots) if needs else {}

    def meets_specification(need: Need, lot: StockLot) -> bool:
        return specs[companies[need.key]].meets(lot.batch_id)

    return planner.plan(needs, lots, (*planner.DEFAULT_RULES, meets_specification))


def candidate_stock(variant_ids: Iterable[int], *, lock: bool, include_batch_id: int | None = None) -> list[Stock]:
    """Stock rows of these pack sizes with free units in lots that orders are filled from (with their lots
    loaded), and with `include_batch_id` every row of that lot too; with `lock`, locked in primary-key order."""
    ids = sorted(set(variant_ids))
    if not ids:
        return []
    candidates = Stock.variant_id.in_(ids) & sellable_lot_filter(0) & (Stock.on_hand > Stock.allocated)
    stmt = (select(Stock).join(Stock.batch).options(contains_eager(Stock.batch))
            .where(or_(candidates, Stock.batch_id == include_batch_id) if include_batch_id else candidates)
            .order_by(Stock.id))
    if lock:
        stmt = stmt.with_for_update(of=Stock).execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))


def lots_of(stocks: Iterable[Stock], exclude_batch_id: int | None = None) -> list[StockLot]:
    """candidate_stock's rows as the planner's StockLot values, without the rows of `exclude_batch_id`."""
    return [StockLot(s.id, s.variant_id, s.batch_id, s.batch.expires_on, s.on_hand - s.allocated, s.batch.lot_number)
            for s in stocks
            if s.batch_id != exclude_batch_id]


def allocate(order: Order, line: OrderLine, stock: Stock, quantity: int, *, staff_id: int | None,
             reason: str) -> Allocation:
    """Reserve `quantity` units of a stock row (locked by the caller) for an order line: its allocation row, and
    the ledger's change."""
    return allocate_all([(order, line, stock, quantity, reason)], staff_id=staff_id)[0]


def allocate_all(picks: Iterable[tuple[Order, OrderLine, Stock, int, str]], *,
                 staff_id: int | None) -> list[Allocation]:
    """`allocate` for each (order, line, stock row, quantity, reason), the ledger's changes written together (one
    INSERT for any number of orders: a release or a recall may serve a thousand)."""
    allocations, moves = [], []
    for order, line, stock, quantity, reason in picks:
        allocation = Allocation(stock=stock, quantity=quantity, status=AllocationStatus.ALLOCATED)
        line.allocations.append(allocation)
        allocations.append(allocation)
        moves.append((stock, quantity, order.id, reason))
    ledger.allocate_all(moves, staff_id=staff_id)
    return allocations


def give_back(order: Order, allocation: Allocation, status: AllocationStatus, *, staff_id: int | None,
              reason: str) -> None:
    """Return an allocation's reserved units to stock (`status`: why, cancelled or recalled), through the
    ledger; its stock row is locked by the caller."""
    ledger.release(allocation.stock, allocation.quantity, order_id=order.id, staff_id=staff_id, reason=reason)
    allocation.status = status
