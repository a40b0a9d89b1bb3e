"""Which events e-mail the buyer, and with what: called by the worker that fans an event out."""
from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy import select, update

from .. import mail
from ..errors import NotFound
from ..extensions import db
from ..models import Customer, NoticeKind, Order, OrderNotice, OutboxEvent, utcnow
from ..services import ordering


def send_for(outbox_event: OutboxEvent) -> None:
    """Queue the e-mail that this event sends, if any (after the fan-out commits)."""
    sender = _SENDERS.get(outbox_event.type)
    if sender is None or outbox_event.customer_id is None:
        return
    customer = db.session.get(Customer, outbox_event.customer_id)
    if customer is not None and customer.active:
        sender(customer, outbox_event)


def _order(outbox_event: OutboxEvent) -> Order | None:
    try:
        return ordering.get_order(outbox_event.subject, outbox_event.customer_id)
    except NotFound:
        return None


def _order_mail(subject: str, template: str) -> Callable[[Customer, OutboxEvent], None]:
    def send(customer: Customer, outbox_event: OutboxEvent) -> None:
        order = _order(outbox_event)
        if order is not None:
            mail.send(customer.email, subject.format(number=order.number), template, order=order,
                      customer=customer)
    return send


def _recall_notice(customer: Customer, outbox_event: OutboxEvent) -> None:
    """The recall notice, once per customer, listing its orders; their notices count as sent from now."""
    data = json.loads(outbox_event.data)
    mail.send(customer.email, f"Recall of lot {data['lot_number']}", "lot_recalled", customer=customer,
              lot_number=data["lot_number"], message=data["message"], numbers=data["orders"])
    order_ids = select(Order.id).where(Order.number.in_(data["orders"]), Order.customer_id == customer.id)
    db.session.execute(update(OrderNotice).where(
        OrderNotice.order_id.in_(order_ids), OrderNotice.kind == NoticeKind.RECALL,
        OrderNotice.lot_number == data["lot_number"], OrderNotice.sent_at.is_(None)).values(sent_at=utcnow()))


_SENDERS: dict[str, Callable[[Customer, OutboxEvent], None]] = {
    "order.placed": _order_mail("Order {number} received", "order_placed"),
    "order.shipped": _order_mail("Order {number} has shipped", "order_shipped"),
    "order.cancelled": _order_mail("Order {number} was cancelled", "order_cancelled"),
    "lot.recalled": _recall_notice,
}
