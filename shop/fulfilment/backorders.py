"""Backorders: units an order waits for (OrderLine.backordered_quantity), filled when a lot is released, and what
staff see of them.

Reading order: `fill_from_release` (the use case: quality.release calls it in the release's transaction), then
the read models `per_sku` (the dashboard) and `waiting_orders` (the list of orders waiting on stock).

A release serves the waiting lines of its pack sizes oldest order first (placed_at, id), first-expired-first-out,
each within its order's rules (ordering.refill: shelf life, pinned lot, one lot per line, the company's
specification). It locks the waiting orders (id order) and then the lot's stock rows (primary-key order), as
cancelling and shipping lock an order before its stock, so that a concurrent order placed from the same lot waits
for the release and never takes its units twice. Its cost does not grow with the orders served: each kind of row
is read in one statement and written in one batch.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm.attributes import set_committed_value

from shop.accounts.models import Company
from shop.catalog.models import Variant
from shop.inventory.models import Batch, Stock
from shop.ordering import announce, changes, refill
from shop.ordering.models import Allocation, Order, OrderLine, OrderStatus, OrderStatusChange
from shop.ordering.queries import order_options
from shop.ordering.shortages import OPEN_STATUSES  # the orders that still receive units
from shop.ordering.views import order as order_view
from shop.platform import outbox, pagination
from shop.platform.extensions import db
from shop.platform.wording import units


@dataclass
class BackordersFilled:
    """What a release did for the orders waiting on its pack sizes: units allocated per order (SKU, units), and
    the orders it left waiting (a rule of theirs excludes the lot, or it ran out)."""

    lot_number: str
    served: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # order number -> (SKU, units)
    still_waiting: list[str] = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(n for allocated in self.served.values() for _, n in allocated)


def fill_from_release(batch: Batch, staff_id: int | None = None) -> BackordersFilled:
    """Allocate a just-released lot to the backordered lines of its pack sizes, oldest order first, each within
    its order's rules; record it in each order served, announce `order.backorder_allocated` (its e-mail tells the
    buyer). Takes what there is; the caller commits."""
    filled = BackordersFilled(batch.lot_number)
    variant_ids = set(db.session.scalars(select(Stock.variant_id).where(Stock.batch_id == batch.id)))
    orders = _lock_waiting_orders(variant_ids)
    if not orders:
        return filled
    stocks = _lock_lot_stock(batch.id)
    lots = refill.lots_of(stocks)
    lines = {line.id: (order, line) for order in orders for line in order.lines
             if line.backordered_quantity > 0 and line.variant_id in variant_ids}
    needs = [refill.need(key, order, line, line.backordered_quantity) for key, (order, line) in lines.items()]
    companies = {key: order.company_id for key, (order, _) in lines.items()}
    planned = refill.plan(needs, lots, companies, refill.specifications(companies.values(), lots))
    stock_by_id = {s.id: s for s in stocks}
    allocated: dict[int, list[dict[str, object]]] = defaultdict(list)  # by order id: what its buyer is told
    taken: dict[int, int] = defaultdict(int)  # by line id: units allocated to it now
    picks = []
    for pick in planned.picks:
        order, line = lines[pick.key]
        picks.append((order, line, stock_by_id[pick.stock_id], pick.quantity,
                      f"Order {order.number}: backordered units allocated from lot {batch.lot_number}"))
        taken[line.id] += pick.quantity
        allocated[order.id].append(changes.allocated(line.sku, batch.lot_number, pick.quantity))
    refill.allocate_all(picks, staff_id=staff_id)
    _lower_backorders(batch.id, {lines[line_id][1]: n for line_id, n in taken.items()})
    # announce.touch for every order served, in one UPDATE (the session's loaded orders get the new values).
    announce.touch_all(allocated)
    for order in orders:
        if order.id in allocated:
            _served(order, batch.lot_number, allocated[order.id], staff_id)
            filled.served[order.number] = [(str(c["sku"]), int(c["quantity"])) for c in allocated[order.id]]
        else:
            filled.still_waiting.append(order.number)
    db.session.flush()
    return filled


def _lower_backorders(batch_id: int, taken: dict[OrderLine, int]) -> None:
    """Lower each line's backordered units by what the release allocated to it, in one short UPDATE for any number
    of lines (the ORM would send one a line): a lot just released has no allocations but the release's, so each
    line gets the sum of its allocations of the lot. The loaded lines are told the values written
    (set_committed_value), so that the events show them and nothing is written twice."""
    if not taken:
        return
    db.session.flush()  # the release's allocations, which the UPDATE reads
    of_lot = select(Allocation.order_line_id, Allocation.quantity).join(Stock, Stock.id == Allocation.stock_id) \
        .where(Stock.batch_id == batch_id).subquery()
    given = select(func.sum(of_lot.c.quantity)).where(of_lot.c.order_line_id == OrderLine.id).scalar_subquery()
    db.session.execute(update(OrderLine).where(OrderLine.id.in_(select(of_lot.c.order_line_id)))
                       .values(backordered_quantity=OrderLine.backordered_quantity - given)
                       .execution_options(synchronize_session=False))
    for line, n in taken.items():
        set_committed_value(line, "backordered_quantity", line.backordered_quantity - n)


def _lock_waiting_orders(variant_ids: set[int]) -> list[Order]:
    """Orders in a waiting status with a backordered line of these pack sizes, locked in id order and loaded as
    their event shows them (a few statements for any number of orders); oldest first (first come, first served)."""
    if not variant_ids:
        return []
    waiting = select(OrderLine.order_id).where(OrderLine.variant_id.in_(variant_ids),
                                               OrderLine.backordered_quantity > 0)
    orders = db.session.scalars(
        select(Order).where(Order.id.in_(waiting), Order.status.in_(OPEN_STATUSES))
        .order_by(Order.id).with_for_update(of=Order)
        .options(*order_options()).execution_options(populate_existing=True)).all()
    return sorted(orders, key=lambda o: (o.placed_at, o.id))


def _lock_lot_stock(batch_id: int) -> list[Stock]:
    """The lot's stock rows with free units, locked in primary-key order, with their lot."""
    return list(db.session.scalars(
        select(Stock).join(Stock.batch).where(Stock.batch_id == batch_id, Stock.on_hand > Stock.allocated)
        .order_by(Stock.id).with_for_update(of=Stock).execution_options(populate_existing=True)))


def _served(order: Order, lot_number: str, allocated: list[dict[str, object]], staff_id: int | None) -> None:
    """Record in the order's history what a release allocated to it, and announce it (the e-mail tells the buyer
    what came and what still waits); the order is touched already (announce.touch_all)."""
    done = "; ".join(f"{c['sku']} {units(int(c['quantity']))}" for c in allocated)
    waiting = still_backordered(order)
    order.history.append(OrderStatusChange(
        from_status=order.status, to_status=order.status, staff_id=staff_id,
        note=f"Backordered units allocated from lot {lot_number} (released): {done}"
             + (f". Still backordered: {', '.join(changes.units_of(m['quantity'], m['sku']) for m in waiting)}"
                if waiting else "")))
    reason = f"Lot {lot_number} was released: backordered units were allocated from it."
    outbox.announce(outbox.Event(
        "order.backorder_allocated",
        lambda: {**order_view(order), "reason": reason, "changes": allocated, "backordered": waiting},
        order.customer_id, order.number))


def still_backordered(order: Order) -> list[dict[str, object]]:
    """The units each line of the order still waits for: `{"sku", "quantity"}` (the event's `backordered`)."""
    return [changes.missing(line.sku, line.backordered_quantity) for line in order.lines
            if line.backordered_quantity > 0]


# Read models: what staff see of backorders. Each is one statement, served by the partial index on backordered
# lines (only lines waiting for stock are in it).

@dataclass(frozen=True)
class SkuBackorder:
    """Units of a pack size that orders wait for: how many, in how many orders, and since when."""

    sku: str
    units: int
    orders: int
    oldest: datetime


def per_sku() -> list[SkuBackorder]:
    """Backordered units per SKU over the waiting orders, the longest-waiting SKU first."""
    rows = db.session.execute(
        select(Variant.sku, func.sum(OrderLine.backordered_quantity), func.count(func.distinct(Order.id)),
               func.min(Order.placed_at))
        .join(Order, Order.id == OrderLine.order_id).join(Variant, Variant.id == OrderLine.variant_id)
        .where(OrderLine.backordered_quantity > 0, Order.status.in_(OPEN_STATUSES))
        .group_by(Variant.sku).order_by(func.min(Order.placed_at), Variant.sku))
    return [SkuBackorder(sku, int(n), int(orders), oldest) for sku, n, orders, oldest in rows]


@dataclass(frozen=True)
class WaitingOrder:
    """An order waiting on stock: what it waits for, per SKU."""

    number: str
    placed_at: datetime
    company: str
    status: OrderStatus
    waiting: list[tuple[str, int]]  # (SKU, units backordered), in line order

    @property
    def units(self) -> int:
        return sum(n for _, n in self.waiting)


def waiting_orders(cursor: str | None = None, limit: int = 50) -> pagination.Page:
    """Orders waiting on stock, oldest first (the order a release serves them in), keyset-paginated on (placed_at,
    id): one statement reads a page's backordered lines with their orders."""
    waiting = (select(Order.id, Order.placed_at).where(Order.status.in_(OPEN_STATUSES),
                                                       Order.id.in_(select(OrderLine.order_id)
                                                                    .where(OrderLine.backordered_quantity > 0))))
    if cursor:
        waiting = waiting.where(tuple_(Order.placed_at, Order.id)
                                > tuple_(*pagination.page_cursor("backorders", cursor)))
    page_ids = waiting.order_by(Order.placed_at, Order.id).limit(limit + 1).subquery()
    rows = db.session.execute(
        select(Order.id, Order.number, Order.placed_at, Company.name, Order.status, OrderLine.sku,
               OrderLine.backordered_quantity)
        .join(page_ids, page_ids.c.id == Order.id).join(Company, Company.id == Order.company_id)
        .join(OrderLine, (OrderLine.order_id == Order.id) & (OrderLine.backordered_quantity > 0))
        .order_by(Order.placed_at, Order.id, OrderLine.position))
    by_order: dict[int, WaitingOrder] = {}
    for order_id, number, placed_at, company, status, sku, n in rows:
        row = by_order.setdefault(order_id, WaitingOrder(number, placed_at, company, status, []))
        row.waiting.append((sku, n))
    orders = list(by_order.items())
    page, more = orders[:limit], len(orders) > limit
    next_cursor = pagination.encode_cursor("backorders", page[-1][1].placed_at, page[-1][0]) if more else None
    return pagination.Page([row for _, row in page], next_cursor)
