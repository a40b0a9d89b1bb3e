"""The events the domain announces: one named function per cause, called inside the causing transaction.

Each writes its event to the outbox (shop.events.outbox) with the change; the queue gets it after COMMIT.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import Row

from ..models import Order, OrderStatus

if TYPE_CHECKING:
    from ..services.ordering import PlacedOrder
from . import outbox, payloads

# DESIGN.md's list; the types of issues still open join it as they land.
EVENT_TYPES = (
    "order.placed", "order.approved", "order.confirmed", "order.shipped", "order.delivered", "order.cancelled",
    "order.backorder_allocated", "order.needs_attention", "quote.answered", "quote.expired", "invoice.issued",
    "lot.recalled",
)
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


def lot_recalled(lot_number: str, message: str, orders: Iterable[Order | Row]) -> None:
    """One lot.recalled per company whose orders drew on the lot, listing those orders (addressed to the person
    who placed the first of them; every endpoint of the company receives it)."""
    by_company: dict[int, list[Order | Row]] = defaultdict(list)
    for order in orders:
        by_company[order.company_id].append(order)
    for _company_id, company_orders in sorted(by_company.items()):
        first = min(company_orders, key=lambda order: order.id)
        outbox.record("lot.recalled", payloads.lot_recalled(lot_number, message,
                                                            sorted(o.number for o in company_orders)),
                      customer_id=first.customer_id, subject=lot_number)


def _order_event(event_type: str, order: Order) -> None:
    outbox.record(event_type, payloads.order(order), customer_id=order.customer_id, subject=order.number)
