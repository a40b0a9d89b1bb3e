"""What ordering announces: one named function per cause, called inside the causing transaction.

Each writes its event to the outbox (shop.platform.outbox) with the change; the queue gets it after COMMIT.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from shop.ordering.models import Order, OrderStatus

if TYPE_CHECKING:
    from shop.ordering.rows import PlacedOrder
from shop.ordering import views
from shop.platform import outbox

_STATUS_EVENTS = {
    OrderStatus.PENDING: "order.approved",  # an order reaches pending by a move only when an approver approves it
    OrderStatus.CONFIRMED: "order.confirmed",
    OrderStatus.SHIPPED: "order.shipped",
    OrderStatus.DELIVERED: "order.delivered",
    OrderStatus.CANCELLED: "order.cancelled",
}


def order_placed(order: PlacedOrder, customer_id: int, data: Mapping[str, object]) -> dict[str, object]:
    """A new order, `data` its API view: the row of its event, which the order's own write writes with it
    (ordering.placing.write_order: no statement of its own)."""
    return outbox.new_event("order.placed", data, customer_id=customer_id, subject=order.number)


def order_status_changed(order: Order) -> None:
    """An order moved to its current status. Its event is written as the transaction commits, so that its
    data shows everything the move brought with it (stock given back, a tracking reference)."""
    event_type = _STATUS_EVENTS.get(order.status)
    if event_type is not None:
        outbox.before_commit(lambda: _order_event(event_type, order))


def order_needs_attention(order: Order) -> None:
    """A recall left the order short: someone must decide what to do."""
    _order_event("order.needs_attention", order)


def _order_event(event_type: str, order: Order) -> None:
    outbox.record(event_type, views.order(order), customer_id=order.customer_id, subject=order.number)
