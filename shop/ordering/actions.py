"""What staff, customers and partners do to an existing order: confirm, deliver, cancel (shipping, in one or more
shipments, is fulfilment.shipments). Each locks the order, moves it through `lifecycle.move` and does what the move
means for the stock (through the inventory's ledger); the caller commits."""
from __future__ import annotations

from sqlalchemy import select

from shop.accounts.models import StaffUser
from shop.inventory.models import Stock
from shop.ordering import documents, refill, shortages
from shop.ordering.lifecycle import Actor, CustomerRef, move
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderStatus
from shop.ordering.queries import get_order
from shop.platform.errors import IllegalTransition
from shop.platform.extensions import db


def confirm_order(number: str, staff: StaffUser | None = None) -> Order:
    """Accept a pending order for fulfilment (refused while it is short of units); it records the current version
    of each document of its products."""
    order = get_order(number, lock=True)
    if order.status == OrderStatus.AWAITING_APPROVAL:
        raise IllegalTransition(f"Order {order.number} awaits approval by {order.company.name}: it can be "
                                "confirmed once one of their approvers approved it.")
    if order.status == OrderStatus.PENDING:
        shortages.refuse_if_short(order, "confirmed")
    move(order, OrderStatus.CONFIRMED, Actor.of(staff))
    db.session.flush()
    documents.record(order)
    return order


def cancel_order(number: str, *, customer: CustomerRef | None = None, staff: StaffUser | None = None,
                 reason: str = "", actor: Actor | None = None, rejection: str | None = None) -> Order:
    """Cancel an order awaiting approval, pending or confirmed, and give its allocated units back to stock.

    With `customer`, only an order of that customer's company can be found (another's is NotFound); `actor`
    overrides who it is recorded as (an approver rejecting it, whose note is the `rejection`).
    """
    order = get_order(number, company_id=customer.company_id if customer else None, lock=True)
    actor = actor or Actor.of(staff, customer)
    move(order, OrderStatus.CANCELLED, actor, reason, rejection=rejection)
    for a in locked_live_allocations(order):
        refill.give_back(order, a, AllocationStatus.RETURNED_CANCELLED, staff_id=actor.staff_id,
                         reason=f"Order {order.number} cancelled")
    for line in order.lines:
        line.backordered_quantity = 0  # a cancelled order waits for no stock
    db.session.flush()
    return order


def deliver_order(number: str, staff: StaffUser | None = None) -> Order:
    """Record that a shipped order arrived."""
    order = get_order(number, lock=True)
    move(order, OrderStatus.DELIVERED, Actor.of(staff))
    db.session.flush()
    return order


def locked_live_allocations(order: Order) -> list[Allocation]:
    """The order's allocations still holding stock, their stock rows locked in primary-key order (and read again):
    what cancelling gives back and what a shipment may take."""
    live = [a for line in order.lines for a in line.allocations if a.status == AllocationStatus.ALLOCATED]
    ids = sorted({a.stock_id for a in live})
    if ids:
        db.session.scalars(
            select(Stock).where(Stock.id.in_(ids)).order_by(Stock.id).with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    return live
