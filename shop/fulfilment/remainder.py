"""Cancelling what an order still waits for: its backordered units, while the units it holds (allocated or
shipped) stay. The buyer does it (API, order page) or staff do it for them; the buyer is told either way."""
from __future__ import annotations

from shop.accounts.models import StaffUser
from shop.ordering import announce, changes, totals
from shop.ordering.actions import cancel_order
from shop.ordering.lifecycle import Actor, CustomerRef, move
from shop.ordering.models import Order, OrderStatus, OrderStatusChange
from shop.ordering.queries import get_order
from shop.ordering.shortages import OPEN_STATUSES
from shop.platform.errors import IllegalTransition
from shop.platform.extensions import db
from shop.platform.wording import units


def cancel_backorder(number: str, *, customer: CustomerRef | None = None, staff: StaffUser | None = None) -> Order:
    """Cancel the backordered units of an open order; the caller commits.

    Each waiting line keeps the quantity ordered and records the units cancelled; its total and the order's are
    recalculated. An order left with nothing to deliver is cancelled; a partially shipped one whose every other
    unit has shipped becomes shipped. With `customer`, only an order of that customer's company is found.
    Refused (IllegalTransition) when the order is not open or waits for nothing.
    """
    order = get_order(number, company_id=customer.company_id if customer else None, lock=True)
    waiting = [line for line in order.lines if line.backordered_quantity]
    if order.status not in OPEN_STATUSES or not waiting:
        raise IllegalTransition(f"Order {order.number} has no backordered units to cancel.")
    actor = Actor.of(staff, customer)
    cancelled = [(line.sku, line.backordered_quantity) for line in waiting]
    said = "; ".join(f"{sku} {units(n)}" for sku, n in cancelled)
    if not any(line.held for line in order.lines):  # nothing allocated or shipped: nothing would be left
        return cancel_order(number, customer=customer, staff=staff,
                            reason=f"Backordered units cancelled ({said}): nothing else was left to deliver.")
    total_before = order.total
    for line in waiting:
        line.cancelled_quantity += line.backordered_quantity
        line.backordered_quantity = 0
    totals.recompute(order)
    note = f"Backordered units cancelled: {said}."
    if order.status == OrderStatus.PARTIALLY_SHIPPED and all(
            line.shipped_quantity == line.wanted for line in order.lines):
        move(order, OrderStatus.SHIPPED, actor, note)  # everything else has shipped: so has the order
    else:
        order.history.append(OrderStatusChange(from_status=order.status, to_status=order.status,
                                               staff_id=actor.staff_id, customer_id=actor.customer_id,
                                               api_key_id=actor.api_key_id, note=note))
    announce.order_changed(order, changes.BACKORDER_CANCELLED, note,
                           [*(changes.cancelled(sku, n) for sku, n in cancelled),
                            changes.total(total_before, order.total, order.currency)], [])
    db.session.flush()
    return order
