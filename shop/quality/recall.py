"""Recall a lot: stop selling it, move open orders onto other lots (FEFO), backorder what no other lot can cover
now (the next release fills it), tell every customer whose order drew on it (a notice on the order), and let staff
clear a flag once handled (a line pinned to the recalled lot: no later lot can fill it)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Row, select
from sqlalchemy.orm import joinedload

from shop.accounts.models import Customer, MemberRole, StaffUser
from shop.fulfilment import backorders
from shop.inventory import lots as inventory
from shop.inventory.models import Stock
from shop.ordering import announce, changes, planner, refill, shortages
from shop.ordering.models import (
    Allocation,
    AllocationStatus,
    NoticeKind,
    Order,
    OrderLine,
    OrderNotice,
    OrderStatusChange,
)
from shop.ordering.queries import order_number_is, order_options
from shop.platform import outbox
from shop.platform.audit import audit
from shop.platform.errors import IllegalTransition, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.wording import units
from shop.quality import release
from shop.quality import trace as tracing
from shop.quality.signatures import Signature
from shop.sales import holds as sales_holds


@dataclass
class RecallSummary:
    lot_number: str
    reallocated: list[str] = field(default_factory=list)  # orders fully covered again from other lots
    backordered: dict[str, str] = field(default_factory=dict)  # order number -> what it now waits for
    flagged: dict[str, str] = field(default_factory=dict)  # order number -> what is short (pinned to the lot)
    received: list[tracing.TraceRow] = field(default_factory=list)  # shipped allocations: customers to contact
    notified: int = 0  # orders that got a recall notice
    quotes_short: list[str] = field(default_factory=list)  # quotes whose held units other lots could not replace

    @property
    def customers_to_contact(self) -> list[tuple[str, str]]:
        return tracing.customers_of(self.received)


def recall_lot(lot_number: str, reason: str, signature: Signature, public_note: str = "") -> RecallSummary:
    """Recall a released lot, signed, re-allocate every open order that drew on it, and record a notice on
    every order that drew on it (open or shipped) with `public_note`; the caller commits. `reason` is internal.

    Raises NotFound, InvalidInput (no reason or note) or IllegalTransition (lot not released) before changing
    anything.
    """
    batch = inventory.get_batch(lot_number)
    release.recall_batch(batch, reason, signature, public_note)
    summary = RecallSummary(batch.lot_number)
    staff_id = signature.staff_id

    # One statement locks the lot's own stock rows and every row that could replace them, in primary-key order.
    locked = refill.candidate_stock({s.variant_id for s in batch.stocks}, lock=True, include_batch_id=batch.id)
    stock_by_id = {s.id: s for s in locked}
    lot_stock_ids = {s.id for s in locked if s.batch_id == batch.id}
    orders = _lock_open_orders(lot_stock_ids)
    needs: list[planner.Need] = []
    lines: dict[int, tuple[Order, OrderLine]] = {}
    changed: dict[int, list[dict[str, object]]] = defaultdict(list)  # by order id: what its buyer is told
    for order in orders:  # oldest first: first come, first re-served
        for line in order.lines:
            recalled = [a for a in line.allocations
                        if a.stock_id in lot_stock_ids and a.status == AllocationStatus.ALLOCATED]
            for a in recalled:
                refill.give_back(order, a, AllocationStatus.RETURNED_RECALLED, staff_id=staff_id,
                                 reason=f"Lot {batch.lot_number} recalled")
            if recalled:
                quantity = sum(a.quantity for a in recalled)
                needs.append(refill.need(line.id, order, line, quantity))
                lines[line.id] = (order, line)
                changed[order.id].append(changes.returned(line.sku, batch.lot_number, quantity))
    planned = refill.plan(needs, refill.lots_of(locked, exclude_batch_id=batch.id),
                          {key: order.company_id for key, (order, _) in lines.items()})
    missing = planned.missing
    picks = []
    for pick in planned.picks:
        order, line = lines[pick.key]
        stock = stock_by_id[pick.stock_id]
        picks.append((order, line, stock, pick.quantity,
                      f"Order {order.number} re-allocated: lot {batch.lot_number} recalled"))
        changed[order.id].append(changes.allocated(line.sku, stock.batch.lot_number, pick.quantity))
    refill.allocate_all(picks, staff_id=staff_id)
    summary.quotes_short = sales_holds.after_recall(batch.id, batch.lot_number, locked, staff_id=staff_id)
    shortfalls: dict[int, list[str]] = defaultdict(list)
    waiting: dict[int, list[str]] = defaultdict(list)
    for n in needs:
        if n.key in missing:
            order, line = lines[n.key]
            if _pinned_to(line, batch.lot_number):
                shortfalls[order.id].append(f"{line.sku} short by {missing[n.key]} of {units(n.quantity)}")
            else:
                line.backordered_quantity += missing[n.key]
                changed[order.id].append(changes.backordered(line.sku, missing[n.key]))
                waiting[order.id].append(f"{line.sku} {units(missing[n.key])} of {units(n.quantity)} backordered")
    moved = {order.id: order for order, _ in lines.values()}.values()
    for order in moved:
        _report(order, batch.lot_number, shortfalls.get(order.id), waiting.get(order.id), staff_id, summary)
    db.session.flush()
    notified = _record_notices(batch.id, batch.lot_number, batch.recall_note)
    summary.notified = len(notified)
    moved_ids = {order.id for order in moved}
    # The notice changes each order it lands on: the open ones say so in their order.changed (read again with
    # their notices, for any number of orders in the same statements, so that it shows the notice), the shipped
    # ones are touched here.
    announce.touch_all(row.id for row in notified if row.id not in moved_ids)
    if moved_ids:
        db.session.scalars(select(Order).where(Order.id.in_(moved_ids)).options(*order_options())
                           .execution_options(populate_existing=True)).all()
    open_orders = {order.number: _announce_changed(order, batch.lot_number, changed[order.id]) for order in moved}
    for order in orders:
        if order.number in summary.flagged:
            announce.order_needs_attention(order)
    lot_recalled(batch.lot_number, batch.recall_note, notified, open_orders)
    summary.received = tracing.lot_trace(batch.lot_number).received
    return summary


def _announce_changed(order: Order, lot_number: str, changed: list[dict[str, object]]) -> dict[str, object]:
    """Announce what the recall did to an open order (order.changed), and give it for the recall notice: its
    number, the changes, the units it still misses (on hold) and those it waits for from the next release."""
    still_missing = [changes.missing(s.sku, s.missing) for s in shortages.short_lines(order)]
    announce.order_changed(order, changes.LOT_RECALLED, f"Lot {lot_number} was recalled.", changed, still_missing)
    return {"number": order.number, "changes": changed, "missing": still_missing,
            "backordered": backorders.still_backordered(order)}


def _pinned_to(line: OrderLine, lot_number: str) -> bool:
    """The buyer ordered the line from this lot only: a recall of it leaves the line short, for no later lot may
    fill it (staff and the buyer decide), instead of backordering it."""
    return line.lot_number is not None and planner.same_lot(line.lot_number, lot_number)


def _report(order: Order, lot_number: str, shortfalls: list[str] | None, waiting: list[str] | None, staff_id: int,
            summary: RecallSummary) -> None:
    """Flag an order left short (its note says what is missing); else record in its history what it now waits
    for (the buyer did not choose that backorder: they may cancel it), or that it was covered again."""
    if waiting:
        note = f"Lot {lot_number} recalled and no other lot could replace it: " + "; ".join(waiting) + "."
        order.history.append(OrderStatusChange(from_status=order.status, to_status=order.status, staff_id=staff_id,
                                               note=note))
        summary.backordered[order.number] = note
        audit(staff_id, "order.backordered", f"order {order.number}", note)
    if shortfalls:
        note = f"Lot {lot_number} recalled: " + "; ".join(shortfalls) + "."
        # Notes still open add up; one that was handled is history (in the audit log), not repeated.
        order.attention_note = f"{order.attention_note}\n{note}".strip() if order.needs_attention else note
        order.needs_attention = True
        summary.flagged[order.number] = note
        audit(staff_id, "order.flagged", f"order {order.number}", note)
    elif not waiting:
        summary.reallocated.append(order.number)
        audit(staff_id, "order.reallocated", f"order {order.number}",
                        f"Lot {lot_number} recalled; allocation moved to other lots")


def _record_notices(batch_id: int, lot_number: str, message: str) -> list[Row]:
    """A recall notice on every order that drew on the lot: shipped ones, and open ones whose units it took
    back; those orders' ids, numbers, customers and companies. The lot.recalled event's e-mail sends them and sets
    their sent_at."""
    order_ids = db.session.scalars(
        select(OrderLine.order_id).distinct()
        .join(Allocation, Allocation.order_line_id == OrderLine.id)
        .join(Stock, Stock.id == Allocation.stock_id)
        .where(Stock.batch_id == batch_id,
               Allocation.status.in_((AllocationStatus.SHIPPED, AllocationStatus.RETURNED_RECALLED)))
        .order_by(OrderLine.order_id)
    ).all()
    db.session.add_all(OrderNotice(order_id=order_id, kind=NoticeKind.RECALL, batch_id=batch_id,
                                   lot_number=lot_number, message=message) for order_id in order_ids)
    db.session.flush()
    if not order_ids:
        return []
    return list(db.session.execute(select(Order.id, Order.number, Order.customer_id, Order.company_id)
                                   .where(Order.id.in_(order_ids))))


@dataclass(frozen=True)
class AffectedOrder:
    """An open order drawing on a lot, and what a recall would do to it now."""

    number: str
    company: str
    units: int  # units it holds of the lot, which would go back to stock
    short: int  # units of lines pinned to the lot: they would be missing (the order flagged)
    backordered: int = 0  # units that other lots could not replace now: they would wait for the next release


@dataclass(frozen=True)
class RecallPreview:
    """What recalling a lot would do, shown before the recall is signed."""

    lot_number: str
    returned: list[tuple[str, int]]  # (SKU, units) going back to stock
    orders: list[AffectedOrder]
    received: list[tracing.TraceRow]  # shipped allocations: the customers who received the lot

    @property
    def customers_to_contact(self) -> list[tuple[str, str]]:
        return tracing.customers_of(self.received)


def preview_recall(lot_number: str) -> RecallPreview:
    """Plan a recall of the lot as recall_lot would carry it out now, without changing or locking anything."""
    trace = tracing.lot_trace(lot_number)
    batch = trace.batch
    held = db.session.scalars(
        select(Allocation).join(Stock, Stock.id == Allocation.stock_id)
        .where(Stock.batch_id == batch.id, Allocation.status == AllocationStatus.ALLOCATED)
        .options(joinedload(Allocation.line).joinedload(OrderLine.order).joinedload(Order.company))
    ).all()
    by_line: dict[int, list[Allocation]] = defaultdict(list)
    for a in held:
        if a.line.order.status in shortages.OPEN_STATUSES:
            by_line[a.line.id].append(a)
    lines = sorted((allocations[0].line for allocations in by_line.values()),
                   key=lambda line: (line.order.placed_at, line.order.id, line.position))
    needs = [refill.need(line.id, line.order, line, sum(a.quantity for a in by_line[line.id])) for line in lines]
    stocks = refill.candidate_stock({line.variant_id for line in lines}, lock=False)
    missing = refill.plan(needs, refill.lots_of(stocks, exclude_batch_id=batch.id),
                          {line.id: line.order.company_id for line in lines}).missing
    orders: dict[str, AffectedOrder] = {}
    returned: dict[str, int] = defaultdict(int)
    for n, line in zip(needs, lines, strict=True):
        returned[line.sku] += n.quantity
        seen = orders.get(line.order.number) or AffectedOrder(line.order.number, line.order.company.name, 0, 0)
        lacking = missing.get(line.id, 0)
        short, waiting = (lacking, 0) if _pinned_to(line, batch.lot_number) else (0, lacking)
        orders[line.order.number] = AffectedOrder(seen.number, seen.company, seen.units + n.quantity,
                                                  seen.short + short, seen.backordered + waiting)
    return RecallPreview(batch.lot_number, sorted(returned.items()), list(orders.values()), trace.received)


def clear_attention(number: str, note: str, staff: StaffUser | None = None) -> Order:
    """Mark a flagged order as handled: clear needs_attention and audit who did it, when, with the note.

    The caller commits. Raises InvalidInput (no note), NotFound, or IllegalTransition (the order is not
    flagged, e.g. someone handled it already) before changing anything.
    """
    note = (note or "").strip()
    if not note:
        raise InvalidInput({"note": ["A note is required: say what was done about the order."]})
    # Locked like a recall locks it, so a recall flagging the order again waits instead of being overwritten.
    order = db.session.scalar(select(Order).where(order_number_is(number)).with_for_update(of=Order)
                              .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(f"No order {number}.")
    if not order.needs_attention:
        raise IllegalTransition(f"Order {order.number} is not flagged for attention.")
    order.needs_attention = False
    audit(staff, "order.attention_cleared", f"order {order.number}", note)
    db.session.flush()
    return order


def _lock_open_orders(lot_stock_ids: set[int]) -> list[Order]:
    """Open orders (shortages.OPEN_STATUSES: also one waiting for its company's approval, which must not be
    approved onto a recalled lot) holding units of these stock rows, locked, oldest first."""
    if not lot_stock_ids:
        return []
    order_ids = sorted(db.session.scalars(
        select(OrderLine.order_id).distinct()
        .join(Allocation, Allocation.order_line_id == OrderLine.id)
        .where(Allocation.stock_id.in_(lot_stock_ids), Allocation.status == AllocationStatus.ALLOCATED)
    ))
    if not order_ids:
        return []
    # Locked like a shipment (fulfilment.shipments) and cancel_order lock them, and reloaded, so none of them ships
    # or is cancelled on allocations we are about to move.
    orders = db.session.scalars(
        select(Order)
        .where(Order.id.in_(order_ids), Order.status.in_(shortages.OPEN_STATUSES))
        .order_by(Order.id)
        .with_for_update(of=Order)
        .options(*order_options())  # what order.changed tells (notices, who placed it) too: none loaded per order
        .execution_options(populate_existing=True)
    ).all()
    return sorted(orders, key=lambda o: (o.placed_at, o.id))


__all__ = ["RecallPreview", "RecallSummary", "clear_attention", "preview_recall", "recall_lot"]


def lot_recalled(lot_number: str, message: str, orders: Iterable[Order | Row],
                 open_orders: Mapping[str, Mapping[str, object]]) -> None:
    """One lot.recalled per company whose orders drew on the lot, listing those orders and what the recall did to
    the open ones among them (`open_orders`, by number); every endpoint of the company receives it, and its e-mail
    goes to every active member who placed one of them (shop.events.emails)."""
    by_company: dict[int, list[Order | Row]] = defaultdict(list)
    for order in orders:
        by_company[order.company_id].append(order)
    active = _active_members({o.customer_id for company_orders in by_company.values() for o in company_orders})
    for company_id, company_orders in sorted(by_company.items()):
        numbers = sorted(o.number for o in company_orders)  # the company's orders that drew on the lot
        data = {"lot_number": lot_number, "message": message, "orders": numbers,
                "open_orders": [open_orders[number] for number in numbers if number in open_orders]}
        placers = [o.customer_id for o in sorted(company_orders, key=lambda order: order.id)]
        outbox.announce(outbox.Event("lot.recalled", data, _addressee(company_id, placers, active), lot_number))


def _active_members(ids: set[int]) -> set[int]:
    """Which of these members are still active: one statement for every company a recall reached."""
    return set(db.session.scalars(select(Customer.id).where(Customer.id.in_(ids), Customer.active.is_(True))))


def _addressee(company_id: int, placers: list[int], active: set[int]) -> int:
    """Whom a company's lot.recalled names: the first of `placers` still active, else an active admin of the
    company (the notice is never dropped because the people who placed the orders have left; looked up only
    then), else the first."""
    placer = next((p for p in placers if p in active), None)
    if placer is not None:
        return placer
    admin = db.session.scalar(select(Customer.id).where(
        Customer.company_id == company_id, Customer.active.is_(True), Customer.joined_at.is_not(None),
        Customer.role == MemberRole.ADMIN).order_by(Customer.id).limit(1))
    return admin or placers[0]
