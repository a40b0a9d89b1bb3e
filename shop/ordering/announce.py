"""What ordering announces: one named function per cause, called inside the causing transaction.

Each announces a plain event value (platform.outbox.Event) to the unit of work; the outbox writes it in the
transaction as it commits, and the queue gets it after COMMIT. A new order's event is the exception: its row
rides in the order's own write (no statement of its own).

Every change announced here touches the order first (`touch`): its `version` goes up by one and `updated_at` is
now, so that the event's payload carries the order's version after the change, and `?updated_since=` finds it.
(order.needs_attention tells more of a change that order.changed announced already: it touches nothing.)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import update

from shop.ordering.models import Order, OrderStatus, OrderStatusChange

if TYPE_CHECKING:
    from shop.ordering.rows import PlacedOrder
from shop.ordering import views
from shop.platform import outbox
from shop.platform.database import utcnow
from shop.platform.extensions import db

_STATUS_EVENTS = {
    OrderStatus.PENDING: "order.approved",  # an order reaches pending by a move only when an approver approves it
    OrderStatus.CONFIRMED: "order.confirmed",
    OrderStatus.PARTIALLY_SHIPPED: "order.shipped",
    OrderStatus.SHIPPED: "order.shipped",
    OrderStatus.DELIVERED: "order.delivered",
    OrderStatus.CANCELLED: "order.cancelled",
}


def order_placed(order: PlacedOrder, customer_id: int, data: Mapping[str, object]) -> dict[str, object]:
    """A new order, `data` its API view: the row of its event, which the order's own write writes with it
    (ordering.placing.write_order: no statement of its own)."""
    return outbox.new_event("order.placed", data, customer_id=customer_id, subject=order.number)


def touch(order: Order, at: datetime | None = None) -> None:
    """The order changed in a way an order event announces: one version more, updated `at` (now). (The order's row
    is locked by whoever changes it, so two changes never give out the same version.)"""
    order.version += 1
    order.updated_at = at or utcnow()


def touch_all(order_ids: Iterable[int], at: datetime | None = None) -> None:
    """`touch` for orders that changed without an order event of their own (a recall notice on a shipped order,
    told by lot.recalled), in one statement: so that `?updated_since=` finds them."""
    ids = sorted(set(order_ids))
    if ids:
        db.session.execute(update(Order).where(Order.id.in_(ids))
                           .values(version=Order.version + 1, updated_at=at or utcnow()))


def order_status_changed(order: Order, change: OrderStatusChange | None = None) -> None:
    """An order moved to its current status (by `change`, whose time becomes the order's `updated_at`). Its event is
    written as the transaction commits, so that its data shows everything the move brought with it (stock given
    back, a tracking reference); a cancellation's carries its `reason`."""
    touch(order, change.at if change is not None else None)
    event_type = _STATUS_EVENTS.get(order.status)
    if event_type is None:
        return
    if order.status == OrderStatus.CANCELLED:
        outbox.announce(outbox.Event(event_type, lambda: {**views.order(order), "reason": cancel_reason(change)},
                                     order.customer_id, order.number))
        return
    outbox.announce(outbox.Event(event_type, lambda: views.order(order), order.customer_id, order.number))


def cancel_reason(change: OrderStatusChange | None) -> str:
    """Why an order was cancelled, in words: the reason given (staff's, the approval's expiry), else who did it."""
    if change is not None and change.note:
        return change.note
    by = change.by if change is not None else None
    return f"Cancelled by {by}." if by is not None else "Cancelled by the shop."


def order_rejected(order: Order, change: OrderStatusChange, note: str) -> None:
    """An approver of the company rejected the order awaiting approval (it is cancelled, its stock released):
    the order as the transaction commits it, with the approver's `note`. Not an `order.cancelled`."""
    touch(order, change.at)
    outbox.announce(outbox.Event("order.rejected", lambda: {**views.order(order), "note": note},
                                 order.customer_id, order.number))


def order_shipped(order: Order, change: OrderStatusChange, shipment: str) -> None:
    """One shipment of the order left (fulfilment.shipments): the order as the transaction commits it, with the
    shipment's number (its lots and tracking are the order's `shipments` item of that number)."""
    touch(order, change.at)
    outbox.announce(outbox.Event("order.shipped", lambda: {**views.order(order), "shipment": shipment},
                                 order.customer_id, order.number))


def order_needs_attention(order: Order) -> None:
    """A recall left the order short: someone must decide what to do. The recall's order.changed in the same
    transaction touched the order already: one change told by two events, both of its version."""
    outbox.announce(outbox.Event("order.needs_attention", views.order(order), order.customer_id, order.number))


def order_changed(order: Order, cause: str, reason: str, changes: list[dict[str, object]],
                  missing: list[dict[str, object]]) -> None:
    """Something the buyer did not do changed the open order's lines or allocations (ordering.changes): the order
    as the transaction commits it, what changed and why, and what it still misses."""
    touch(order)
    outbox.announce(outbox.Event(
        "order.changed",
        lambda: {**views.order(order), "cause": cause, "reason": reason, "changes": changes, "missing": missing},
        order.customer_id, order.number))
