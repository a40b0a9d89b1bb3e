"""Short orders: open orders whose lines hold fewer units than they are to deliver (after a recall, a count
correction, or any other reason). Such an order cannot be confirmed or shipped while short (`refuse_if_short`,
called by ordering); fulfilment fills it from released stock first-expired-first-out in one action,
allocates a lot by hand (also one sold only on request), cancels the missing units, or cancels the order.
Each of these is written into the order's history and told to the buyer (order.changed)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import selectinload

from shop.accounts.models import StaffUser
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, BatchStatus, DateKind, Stock
from shop.ordering import announce, changes, refill, totals
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine, OrderStatus, OrderStatusChange
from shop.ordering.planner import Need, StockLot
from shop.ordering.queries import order_number_is, order_options
from shop.platform import pagination
from shop.platform.audit import audit
from shop.platform.errors import IllegalTransition, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.wording import units
from shop.specifications.service import Conformance, conformance

# Open orders: every order that holds stock or waits for it and has not shipped in full. One waiting for its
# company's approval holds its units too: a recall re-allocates it (quality.recall), so it may be short, and
# fulfilment fills it or cancels its missing units while it waits (its buyer is told, as for any other open order).
# A partially shipped one still holds the units of its next shipments.
OPEN_STATUSES = (OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING, OrderStatus.CONFIRMED,
                 OrderStatus.PARTIALLY_SHIPPED)


@dataclass(frozen=True)
class ShortLine:
    position: int
    sku: str
    wanted: int  # units the line is to deliver (ordered, less cancelled)
    held: int  # units allocated (or shipped) to it

    @property
    def missing(self) -> int:
        return self.wanted - self.held

    def __str__(self) -> str:
        return f"{self.sku} misses {self.missing} of {units(self.wanted)}"


def short_lines(order: Order) -> list[ShortLine]:
    """The lines of an order (loaded with its allocations) that hold fewer units than they are to deliver, not
    counting those backordered (held counts them)."""
    short = []
    for line in order.lines:
        held = line.held + line.backordered_quantity  # backordered units wait for a release: not missing
        if held < line.wanted:
            short.append(ShortLine(line.position, line.sku, line.wanted, held))
    return short


def missing_now(order: Order) -> list[ShortLine]:
    """What an order (loaded with its allocations) misses now, read from its allocations and never from a note
    written back then (a refill may have given some units back since): its short lines while it is open, none once
    it is closed. What the buyer's and the staff's order pages say."""
    return short_lines(order) if order.status in OPEN_STATUSES else []


def recalled(order: Order) -> str:
    """Which recall took units back from the order, in words: 'lot L-1 was recalled', 'lots L-1, L-2 were
    recalled', or '' when none did."""
    lots = sorted({a.stock.batch.lot_number for line in order.lines for a in line.allocations
                   if a.status == AllocationStatus.RETURNED_RECALLED})
    if not lots:
        return ""
    return f"lot {lots[0]} was recalled" if len(lots) == 1 else f"lots {', '.join(lots)} were recalled"


def refuse_if_short(order: Order, action: str) -> None:
    """Raise IllegalTransition saying exactly what is missing when the order is short (`action`: 'confirmed')."""
    short = short_lines(order)
    if short:
        raise IllegalTransition(
            f"Order {order.number} cannot be {action} while it is short: " + "; ".join(map(str, short))
            + ". Allocate the missing units, cancel them, or cancel the order.")


@dataclass(frozen=True)
class Filled:
    """What one-click allocation did: units per (SKU, lot), and the lines still short."""

    allocated: list[tuple[str, str, int]]
    still_short: list[ShortLine]


def fill_short_order(number: str, staff: StaffUser | None = None) -> Filled:
    """Allocate an open order's missing units from released stock, first-expired-first-out, within the order's
    shelf life and never from lots sold only on request. Takes what there is; the caller commits.

    Raises NotFound or IllegalTransition (not open, not short, or no released unit fits) before changing
    anything.
    """
    order = _lock_open_order(number)
    short = _require_short(order)
    lines = {line.position: line for line in order.lines}
    stocks = refill.candidate_stock({lines[s.position].variant_id for s in short}, lock=True)
    needs = [refill.need(s.position, order, lines[s.position], s.missing) for s in short]
    picks = refill.plan(needs, refill.lots_of(stocks), dict.fromkeys(lines, order.company_id)).picks
    if not picks:
        why = "; ".join(f"{s} ({nothing_fits(order, lines[s.position])})" for s in short)
        raise IllegalTransition(f"No released stock can fill order {order.number} now: {why}. Allocate a lot sold on "
                                "request by hand, cancel the missing units, or cancel the order.")
    stock_by_id = {s.id: s for s in stocks}
    allocated = []
    for pick in picks:
        line, stock = lines[pick.key], stock_by_id[pick.stock_id]
        refill.allocate(order, line, stock, pick.quantity, staff_id=_id(staff),
                        reason=f"Order {order.number}: missing units allocated from released stock")
        allocated.append((line.sku, stock.batch.lot_number, pick.quantity))
    still_short = short_lines(order)
    _note(order, staff, "Missing units allocated from released stock (first-expired-first-out): "
          + "; ".join(f"{sku} {n} from lot {lot}" for sku, lot, n in allocated)
          + (f". Still short: {'; '.join(map(str, still_short))}" if still_short else ""))
    _settled(order, staff, still_short, "missing units allocated from released stock")
    _tell_buyer(order, changes.UNITS_ALLOCATED,
                f"The units missing{_since(order)} were allocated from another lot.",
                [changes.allocated(sku, lot, n) for sku, lot, n in allocated], still_short)
    db.session.flush()
    return Filled(allocated, still_short)


def cancel_short_units(number: str, staff: StaffUser | None = None) -> list[ShortLine]:
    """Cancel the units an open order misses, so that it can go ahead with what it holds; the caller commits.

    The line keeps the quantity ordered and records the units cancelled; its total and the order's are
    recalculated. Refused when nothing would be left to deliver: cancel the order instead.
    """
    order = _lock_open_order(number)
    short = _require_short(order)
    lines = {line.position: line for line in order.lines}
    if sum(line.wanted for line in order.lines) == sum(s.missing for s in short):
        raise IllegalTransition(f"Nothing of order {order.number} would be left to deliver: cancel the order instead.")
    for s in short:
        lines[s.position].cancelled_quantity += s.missing
    total_before = order.total
    totals.recompute(order)
    _note(order, staff, "Missing units cancelled (they could not be supplied): "
          + "; ".join(f"{s.sku} {s.missing} of {units(s.wanted)}" for s in short))
    _settled(order, staff, [], "missing units cancelled")
    _tell_buyer(order, changes.UNITS_CANCELLED,
                f"The units missing{_since(order)} could not be supplied from another lot, so they were cancelled; "
                "the rest of the order goes ahead.",
                [*(changes.cancelled(s.sku, s.missing) for s in short),
                 changes.total(total_before, order.total, order.currency)], [])
    db.session.flush()
    return short


@dataclass(frozen=True)
class HandLot:
    """A lot fulfilment may allocate by hand to a short line: released, within the order's shelf life."""

    lot_number: str
    expires_on: date
    free: int
    on_request: bool
    date_kind: DateKind


def hand_lots(order: Order) -> dict[int, list[HandLot]]:
    """For each short line of an open order (by position), the lots that may be allocated to it by hand,
    earliest expiry first, including lots sold only on request: those that meet the company's specification and
    the line's pinned lot or one-lot rule."""
    short = {s.position for s in missing_now(order)}
    lines = [line for line in order.lines if line.position in short]
    if not lines:
        return {}
    rows = db.session.execute(
        select(Stock.variant_id, Batch.id, Batch.lot_number, Batch.expires_on,
               (Stock.on_hand - Stock.allocated).label("free"), Batch.on_request, Batch.date_kind)
        .join(Batch, Batch.id == Stock.batch_id)
        .where(Stock.variant_id.in_({line.variant_id for line in lines}), Batch.status == BatchStatus.RELEASED,
               Batch.expires_on > refill.not_before(order), Stock.on_hand > Stock.allocated)
        .order_by(Batch.expires_on, Batch.id)
    ).all()
    judged = conformance(order.company_id, {row.id for row in rows})
    return {line.position: [HandLot(row.lot_number, row.expires_on, row.free, row.on_request, row.date_kind)
                            for row in rows
                            if row.variant_id == line.variant_id and judged.meets(row.id)
                            and hand_lot_problem(order, line, row.lot_number) is None]
            for line in lines}


def nothing_fits(order: Order, line: OrderLine) -> str:
    """Why no released lot fills a short line, the buyer's own rule first: the line is pinned to a lot (say a
    recalled one), or the order ships each line from one lot; else the order's shelf life."""
    if line.lot_number:
        return f"the buyer ordered it from lot {line.lot_number} only, which has no released units free"
    held = {a.stock.batch.lot_number for a in line.allocations if a.status.live}
    if order.single_lot and held:
        return f"the buyer asked for each line from one lot, and its lot {min(held)} has no released units free"
    return f"no released lot with free units has more than {refill.shelf_life_days(order)} days of shelf life left"


def hand_lot_problem(order: Order, line: OrderLine, lot_number: str) -> str | None:
    """Why the buyer's own rules forbid a lot for a line (None when they allow it): the line is pinned to another
    lot, or the order ships each line from one lot and the line already draws from another."""
    if line.lot_number and line.lot_number.casefold() != lot_number.casefold():
        return f"The buyer ordered {line.sku} from lot {line.lot_number} only."
    if order.single_lot:
        held = {a.stock.batch.lot_number for a in line.allocations if a.status == AllocationStatus.ALLOCATED}
        if held and {lot.casefold() for lot in held} != {lot_number.casefold()}:
            return f"The buyer asked for each line from one lot, and {line.sku} draws from lot {min(held)}."
    return None


def allocate_by_hand(number: str, position: int, lot_number: str, quantity: int,
                     staff: StaffUser | None = None) -> Allocation:
    """Allocate units of a chosen lot (also one sold only on request) to a short line; the caller commits.

    The lot must be released, of the line's pack size, and within the order's shelf life, and the quantity at
    most what the line misses and the lot has free. Recorded in the order's history.
    """
    order = _lock_open_order(number)
    short = {s.position: s for s in _require_short(order)}
    line = next((line for line in order.lines if line.position == position), None)
    if line is None or position not in short:
        raise InvalidInput({"position": [f"Line {position + 1} of order {order.number} is not short."]})
    missing = short[position].missing
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= missing:
        raise InvalidInput({"quantity": [f"Allocate a whole number of units from 1 to {missing}."]})
    stock = db.session.scalar(
        select(Stock).join(Stock.batch)
        .where(inventory.lot_number_is(lot_number), Stock.variant_id == line.variant_id)
        .with_for_update(of=Stock).execution_options(populate_existing=True))
    not_before = refill.not_before(order)
    if stock is None or stock.batch.status != BatchStatus.RELEASED or stock.batch.expires_on <= not_before:
        raise InvalidInput({"lot_number": [f"Lot {lot_number} has no released {line.sku} that expires after "
                                           f"{not_before.isoformat()} (the order's shelf life)."]})
    problem = hand_lot_problem(order, line, stock.batch.lot_number)
    outside = conformance(order.company_id, [stock.batch_id]).failures(stock.batch_id)
    if outside:
        problem = (f"Lot {stock.batch.lot_number} does not meet {order.company.name}'s specification "
                   f"({', '.join(limit.test for limit in outside)}).")
    if problem:
        raise InvalidInput({"lot_number": [problem]})
    if stock.on_hand - stock.allocated < quantity:
        raise InvalidInput({"quantity": [f"Lot {stock.batch.lot_number} has {stock.on_hand - stock.allocated} "
                                         f"{line.sku} free."]})
    kind = " (sold only on request)" if stock.batch.on_request else ""
    allocation = refill.allocate(order, line, stock, quantity, staff_id=_id(staff),
                                 reason=f"Order {order.number}: allocated by hand from lot "
                                        f"{stock.batch.lot_number}{kind}")
    still_short = short_lines(order)
    _note(order, staff, f"Allocated by hand: {line.sku} {units(quantity)} from lot {stock.batch.lot_number}{kind}")
    _settled(order, staff, still_short, f"allocated by hand from lot {stock.batch.lot_number}")
    _tell_buyer(order, changes.UNITS_ALLOCATED,
                f"Units missing{_since(order)} were allocated from lot {stock.batch.lot_number}.",
                [changes.allocated(line.sku, stock.batch.lot_number, quantity)], still_short)
    db.session.flush()
    return allocation


@dataclass(frozen=True)
class ShortOrder:
    """An open short order on the fulfilment list: what it misses, and how much released stock could fill now."""

    number: str
    placed_at: datetime
    company: str
    status: OrderStatus
    short: list[ShortLine]
    fillable: int  # units released stock could allocate to it now
    from_lot: int | None = None  # of those, units the lot `short_orders` was asked about could give (by its rules)

    @property
    def missing(self) -> int:
        return sum(s.missing for s in self.short)


def short_order_ids(variant_ids: set[int] | None = None):
    """A SELECT of the ids of open orders with a line holding fewer units than it is to deliver, backordered units
    aside (with `variant_ids`, a line of one of those pack sizes)."""
    held = (select(func.coalesce(func.sum(Allocation.quantity), 0))
            .where(Allocation.order_line_id == OrderLine.id,
                   Allocation.status.in_((AllocationStatus.ALLOCATED, AllocationStatus.SHIPPED)))
            .correlate(OrderLine).scalar_subquery())
    waiting = OrderLine.backordered_quantity
    short_ids = (select(OrderLine.order_id).join(Order, Order.id == OrderLine.order_id)
                 .where(Order.status.in_(OPEN_STATUSES),
                        held + waiting < OrderLine.quantity - OrderLine.cancelled_quantity))
    if variant_ids is not None:
        short_ids = short_ids.where(OrderLine.variant_id.in_(variant_ids))
    return short_ids


def short_orders(variant_ids: set[int] | None = None, cursor: str | None = None,
                 limit: int = 50, lot_batch_id: int | None = None) -> pagination.Page:
    """Open short orders, oldest first (first come, first served), keyset-paginated on (placed_at, id); with
    `variant_ids`, only orders short of one of those pack sizes (those a newly released lot may serve). With
    `lot_batch_id`, each row also says how many units that lot alone could give the order within its rules (a line
    pinned to another lot, or a company whose specification the lot misses, gets none of it)."""
    stmt = (select(Order).where(Order.id.in_(short_order_ids(variant_ids)))
            .options(selectinload(Order.company),
                     selectinload(Order.lines).selectinload(OrderLine.allocations))
            .order_by(Order.placed_at, Order.id).limit(limit + 1))
    if cursor:
        stmt = stmt.where(tuple_(Order.placed_at, Order.id) > tuple_(*pagination.page_cursor("short-orders", cursor)))
    orders = list(db.session.scalars(stmt))
    page, more = orders[:limit], len(orders) > limit
    stocks = refill.candidate_stock({line.variant_id for o in page for line in o.lines}, lock=False)
    lots = refill.lots_of(stocks)
    specs = refill.specifications({order.company_id for order in page}, lots)
    of_lot = [lot for lot in lots if lot.batch_id == lot_batch_id]
    rows = []
    for order in page:
        short = short_lines(order)
        lines = {line.position: line for line in order.lines}
        needs = [refill.need(s.position, order, lines[s.position], s.missing) for s in short]
        companies = dict.fromkeys(lines, order.company_id)
        rows.append(ShortOrder(order.number, order.placed_at, order.company.name, order.status, short,
                               _fillable(needs, lots, companies, specs),
                               _fillable(needs, of_lot, companies, specs) if lot_batch_id is not None else None))
    next_cursor = pagination.encode_cursor("short-orders", page[-1].placed_at, page[-1].id) if more else None
    return pagination.Page(rows, next_cursor)


def _fillable(needs: list[Need], lots: list[StockLot], companies: dict[int, int],
              specs: dict[int, Conformance]) -> int:
    """How many of the needed units `lots` could give, by each order's rules."""
    return sum(pick.quantity for pick in refill.plan(needs, lots, companies, specs).picks)


def _lock_open_order(number: str) -> Order:
    order = db.session.scalar(
        select(Order).where(order_number_is(number)).with_for_update(of=Order)
        .options(*order_options())  # with the allocations' lots, that recalled() names
        .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(f"No order {number}.")
    if order.status not in OPEN_STATUSES:
        raise IllegalTransition(f"Order {order.number} is {order.status}: only an open order (awaiting approval, "
                                "pending, confirmed or partially shipped) is filled.")
    return order


def _require_short(order: Order) -> list[ShortLine]:
    short = short_lines(order)
    if not short:
        raise IllegalTransition(f"Order {order.number} is not short: every line holds its units.")
    return short


def _note(order: Order, staff: StaffUser | None, note: str) -> None:
    """An entry in the order's history that is not a change of status (from and to are the same)."""
    order.history.append(OrderStatusChange(from_status=order.status, to_status=order.status, staff_id=_id(staff),
                                           note=note))


def _since(order: Order) -> str:
    """Why the order fell short, when a recall took units back from it: ' since lot L-1 was recalled'."""
    words = recalled(order)
    return f" since {words}" if words else ""


def _tell_buyer(order: Order, cause: str, reason: str, changed: list[dict[str, object]],
                still_short: list[ShortLine]) -> None:
    announce.order_changed(order, cause, reason, changed, [changes.missing(s.sku, s.missing) for s in still_short])


def _settled(order: Order, staff: StaffUser | None, still_short: list[ShortLine], how: str) -> None:
    """Clear the attention flag that a recall set once the order is no longer short."""
    if order.needs_attention and not still_short:
        order.needs_attention = False
        audit(staff, "order.attention_cleared", f"order {order.number}", f"No longer short: {how}.")


def _id(staff: StaffUser | None) -> int | None:
    return staff.id if staff is not None else None
