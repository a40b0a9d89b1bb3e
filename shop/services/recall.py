"""Recall a lot: stop selling it, move open orders onto other lots (FEFO), flag what cannot be covered,
and let staff clear a flag once they have dealt with the order."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..errors import IllegalTransition, InvalidInput, NotFound
from ..extensions import db
from ..models import (
    Allocation,
    AllocationStatus,
    BatchStatus,
    MovementKind,
    Order,
    OrderLine,
    OrderStatus,
    StaffUser,
    Stock,
    StockMovement,
)
from . import inventory, reports
from .catalog import sellable_after, sellable_lot_filter

OPEN_STATUSES = (OrderStatus.PENDING, OrderStatus.CONFIRMED)


@dataclass
class RecallSummary:
    lot_number: str
    reallocated: list[str] = field(default_factory=list)  # orders fully covered again from other lots
    flagged: dict[str, str] = field(default_factory=dict)  # order number -> what is short
    received: list[reports.TraceRow] = field(default_factory=list)  # shipped allocations: customers to contact

    @property
    def customers_to_contact(self) -> list[tuple[str, str]]:
        return reports.customers_of(self.received)


def recall_lot(lot_number: str, reason: str, staff: StaffUser | None = None) -> RecallSummary:
    """Recall a released lot and re-allocate every open order that drew on it; the caller commits.

    Raises NotFound, InvalidInput (no reason) or IllegalTransition (lot not released) before changing anything.
    """
    batch = inventory.get_batch(lot_number)
    inventory.recall_batch(batch, reason, staff)
    summary = RecallSummary(batch.lot_number)

    # One statement locks the lot's own stock rows and every row that could replace them, in primary-key
    # order like orders._plan_allocation, so a recall and a checkout wait for each other instead of deadlocking.
    variant_ids = sorted({s.variant_id for s in batch.stocks})
    locked = db.session.scalars(
        select(Stock)
        .join(Stock.batch)
        .options(contains_eager(Stock.batch))
        .where(or_(Stock.batch_id == batch.id,
                   and_(Stock.variant_id.in_(variant_ids), sellable_lot_filter(0), Stock.on_hand > Stock.allocated)))
        .order_by(Stock.id)
        .with_for_update(of=Stock)
        .execution_options(populate_existing=True)
    ).all() if variant_ids else []
    lot_stock_ids = {s.id for s in locked if s.batch_id == batch.id}

    orders = _lock_open_orders(lot_stock_ids)
    pools: dict[int, list[Stock]] = defaultdict(list)
    for stock in sorted(locked, key=lambda s: (s.batch.expires_on, s.batch.id, s.id)):
        if stock.batch_id != batch.id and stock.batch.status == BatchStatus.RELEASED:
            pools[stock.variant_id].append(stock)

    for order in orders:  # oldest first: first come, first re-served
        shortfalls: list[str] = []
        not_before = sellable_after(order.min_remaining_shelf_life_days or 0)
        for line in order.lines:
            recalled = [a for a in line.allocations
                        if a.stock_id in lot_stock_ids and a.status == AllocationStatus.ALLOCATED]
            if not recalled:
                continue
            needed = sum(a.quantity for a in recalled)
            for a in recalled:
                a.stock.allocated -= a.quantity
                a.status = AllocationStatus.RELEASED
                db.session.add(StockMovement(stock=a.stock, kind=MovementKind.DEALLOCATION,
                                             allocated_delta=-a.quantity, order_id=order.id, staff_id=_id(staff),
                                             reason=f"Lot {batch.lot_number} recalled"))
            remaining = needed
            for stock in pools[line.variant_id]:
                if remaining == 0:
                    break
                if stock.batch.expires_on <= not_before:
                    continue  # too short-dated for this customer's shelf-life requirement
                take = min(stock.on_hand - stock.allocated, remaining)
                if take <= 0:
                    continue
                stock.allocated += take
                remaining -= take
                line.allocations.append(Allocation(stock=stock, quantity=take, status=AllocationStatus.ALLOCATED))
                db.session.add(StockMovement(stock=stock, kind=MovementKind.ALLOCATION, allocated_delta=take,
                                             order_id=order.id, staff_id=_id(staff),
                                             reason=f"Order {order.number} re-allocated: lot {batch.lot_number} "
                                                    "recalled"))
            if remaining:
                shortfalls.append(f"{line.sku} short by {remaining} of {needed} units")
        if shortfalls:
            note = f"Lot {batch.lot_number} recalled: " + "; ".join(shortfalls) + "."
            # Notes still open add up; one that was handled is history (in the audit log), not repeated.
            order.attention_note = f"{order.attention_note}\n{note}".strip() if order.needs_attention else note
            order.needs_attention = True
            summary.flagged[order.number] = note
            inventory.audit(staff, "order.flagged", f"order {order.number}", note)
        else:
            summary.reallocated.append(order.number)
            inventory.audit(staff, "order.reallocated", f"order {order.number}",
                            f"Lot {batch.lot_number} recalled; allocation moved to other lots")
    db.session.flush()
    summary.received = reports.lot_trace(batch.lot_number).received
    return summary


def clear_attention(number: str, note: str, staff: StaffUser | None = None) -> Order:
    """Mark a flagged order as handled: clear needs_attention and audit who did it, when, with the note.

    The caller commits. Raises InvalidInput (no note), NotFound, or IllegalTransition (the order is not
    flagged, e.g. someone handled it already) before changing anything.
    """
    note = (note or "").strip()
    if not note:
        raise InvalidInput({"note": ["A note is required: say what was done about the order."]})
    # Locked like a recall locks it, so a recall flagging the order again waits instead of being overwritten.
    order = db.session.scalar(select(Order).where(Order.number == number).with_for_update(of=Order)
                              .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(f"No order {number}.")
    if not order.needs_attention:
        raise IllegalTransition(f"Order {number} is not flagged for attention.")
    order.needs_attention = False
    inventory.audit(staff, "order.attention_cleared", f"order {order.number}", note)
    db.session.flush()
    return order


def _lock_open_orders(lot_stock_ids: set[int]) -> list[Order]:
    """Pending and confirmed orders holding units of these stock rows, locked, oldest first."""
    if not lot_stock_ids:
        return []
    order_ids = sorted(db.session.scalars(
        select(OrderLine.order_id).distinct()
        .join(Allocation, Allocation.order_line_id == OrderLine.id)
        .where(Allocation.stock_id.in_(lot_stock_ids), Allocation.status == AllocationStatus.ALLOCATED)
    ))
    if not order_ids:
        return []
    # Locked like ship_order and cancel_order lock them, and reloaded, so none of them ships or is cancelled
    # on allocations we are about to move.
    orders = db.session.scalars(
        select(Order)
        .where(Order.id.in_(order_ids), Order.status.in_(OPEN_STATUSES))
        .order_by(Order.id)
        .with_for_update(of=Order)
        .options(selectinload(Order.lines).selectinload(OrderLine.allocations))
        .execution_options(populate_existing=True)
    ).all()
    return sorted(orders, key=lambda o: (o.placed_at, o.id))


def _id(staff: StaffUser | None) -> int | None:
    return staff.id if staff is not None else None


__all__ = ["RecallSummary", "clear_attention", "recall_lot"]
