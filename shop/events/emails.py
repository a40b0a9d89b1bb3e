"""Which events e-mail the company's members, and with what: called by the worker that fans an event out. Each
message is an outbox row written in the fan-out's transaction (shop.platform.mail), linked to its event."""
from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select, update

from shop import ordering, sales
from shop.accounts.models import Customer, MemberRole
from shop.invoicing import documents as invoice_documents
from shop.invoicing import views as invoice_views
from shop.invoicing.issuing import unapplied_payments
from shop.invoicing.models import DocumentKind, note_for
from shop.invoicing.pdf import invoice_pdf
from shop.ordering import acknowledgement, approvals, changes
from shop.ordering import documents as order_documents
from shop.ordering.models import NoticeKind, Order, OrderNotice, OrderStatus
from shop.platform import mail
from shop.platform.database import utcnow
from shop.platform.errors import NotFound
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent


def send_for(outbox_event: OutboxEvent) -> None:
    """Write the e-mail that this event sends, if any, into the current transaction (sent after it commits)."""
    sender = _SENDERS.get(outbox_event.type)
    if sender is None or outbox_event.customer_id is None:
        return
    customer = db.session.get(Customer, outbox_event.customer_id)
    if customer is not None and customer.active:
        with mail.caused_by(outbox_event.id):
            sender(customer, outbox_event)


def notices_sent(mail_id: int) -> None:
    """The notices that a message carried count as sent now that the SMTP server took it (connected to
    mail.sent: called in the transaction that marks the message sent)."""
    db.session.execute(update(OrderNotice).where(OrderNotice.mail_id == mail_id, OrderNotice.sent_at.is_(None))
                       .values(sent_at=utcnow()))


def _order(customer: Customer, outbox_event: OutboxEvent, *, with_products: bool = False) -> Order | None:
    try:
        return ordering.get_order(outbox_event.subject, customer.company_id, with_products=with_products)
    except NotFound:
        return None


def _order_placed(customer: Customer, outbox_event: OutboxEvent) -> None:
    """The buyer's receipt (to the person, or to the member who made the key that placed it; saying when it
    waits for approval); for an order awaiting approval, also a request to the company's approvers, naming who
    placed it (the key, never its maker), but not to its placer (for a key: its maker), who may not decide it.
    Both name each line's product."""
    order = _order(customer, outbox_event, with_products=True)
    if order is None:
        return
    mail.send(customer.email, f"Order {order.number} received", "order_placed", order=order, customer=customer)
    if order.status != OrderStatus.AWAITING_APPROVAL:
        return
    approvers = _approvers(customer.company_id, but=customer.id)
    if approvers:
        mail.send(approvers, f"Order {order.number} awaits your approval", "approval_needed", order=order)


def _approvers(company_id: int, but: int | None = None) -> list[str]:
    """The addresses of the company's approvers and admins (who have joined and are active), but one person."""
    return addresses(company_id, (MemberRole.APPROVER, MemberRole.ADMIN), but)


def addresses(company_id: int, roles: tuple[MemberRole, ...], but: int | None = None) -> list[str]:
    """The addresses of the company's members in `roles` (who have joined and are active), but one person."""
    query = select(Customer.email).where(
        Customer.company_id == company_id, Customer.active.is_(True), Customer.joined_at.is_not(None),
        Customer.role.in_(roles))
    if but is not None:
        query = query.where(Customer.id != but)
    return list(db.session.scalars(query.order_by(Customer.id)))


def _recall_notice(customer: Customer, outbox_event: OutboxEvent) -> None:
    """The recall notice, once per company, listing the company's orders and what happens to the open ones: one
    message to every active member who placed one of them, and to the member the event names (an active placer,
    else an admin: see quality.recall.lot_recalled). Their notices carry the message, and count as sent once it
    is (`notices_sent`); an order.changed with a recall's cause is told by it."""
    data = json.loads(outbox_event.data)
    order_ids = select(Order.id).where(Order.number.in_(data["orders"]), Order.company_id == customer.company_id)
    placers = db.session.scalars(select(Customer.email).distinct().where(
        Customer.id.in_(select(Order.customer_id).where(Order.id.in_(order_ids))), Customer.active.is_(True)))
    open_orders = [(o["number"], _missing(o), _backordered(o), _told(o["changes"]))
                   for o in data.get("open_orders", [])]
    mail_id = mail.send(sorted({customer.email, *placers}), f"Recall of lot {data['lot_number']}", "lot_recalled",
                        customer=customer, lot_number=data["lot_number"], message=data["message"],
                        numbers=data["orders"], open_orders=open_orders)
    db.session.execute(update(OrderNotice).where(
        OrderNotice.order_id.in_(order_ids), OrderNotice.kind == NoticeKind.RECALL,
        OrderNotice.lot_number == data["lot_number"], OrderNotice.mail_id.is_(None)).values(mail_id=mail_id))


def _told(changed: list[dict[str, object]]) -> list[tuple[str, str]]:
    """Each change in words, with the lot whose certificate to link (a lot the order now draws on) or ''."""
    return [(changes.describe(c), str(c["lot_number"]) if c["kind"] == "allocated" else "") for c in changed]


def _missing(data: dict[str, object]) -> str:
    """What an order.changed's (or a recall's open order's) `missing` says: '2 units of LEU-USP-25KG', or ''."""
    return ", ".join(changes.units_of(int(m["quantity"]), str(m["sku"])) for m in data["missing"])


def _backordered(data: dict[str, object]) -> str:
    """What an order waits for from the next release (an event's or a recall's open order's `backordered`), in
    words: '2 units of LEU-USP-25KG', or ''."""
    return ", ".join(changes.units_of(int(b["quantity"]), str(b["sku"])) for b in data.get("backordered", []))


def _order_changed(customer: Customer, outbox_event: OutboxEvent) -> None:
    """What changed on the order, why, and what it still misses; a recall's changes are told by the recall notice,
    sent with them."""
    data = json.loads(outbox_event.data)
    order = _order(customer, outbox_event)
    if order is not None and data["cause"] != changes.LOT_RECALLED:
        mail.send(customer.email, f"Order {order.number} changed", "order_changed", order=order,
                  reason=data["reason"], changed=_told(data["changes"]), missing=_missing(data),
                  lines=_lines(data), total=Decimal(data["total"]))


def _backorder_allocated(customer: Customer, outbox_event: OutboxEvent) -> None:
    """What a released lot brought to the order's backordered lines (lots with their certificates), and what it
    still waits for: the order.changed message, in the words of a backorder."""
    data = json.loads(outbox_event.data)
    order = _order(customer, outbox_event)
    if order is not None:
        mail.send(customer.email, f"Order {order.number}: backordered units allocated", "order_changed",
                  order=order, reason=data["reason"], changed=_told(data["changes"]), missing="",
                  backordered=_backordered(data),
                  lines=_lines(data), total=Decimal(data["total"]))


def _lines(order: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """The order's lines as an event's data shows them (not as they may be by the time the mail is written): each
    line's units to deliver in words, and its lots (units in words, lot number)."""
    return [(changes.units_of(line["quantity"] - line["cancelled_quantity"], line["sku"]),
             [(changes.units_of(a["quantity"], f"lot {a['lot_number']}"), a["lot_number"])
              for a in line["allocations"]])
            for line in order["lines"]]


def _order_shipped(customer: Customer, outbox_event: OutboxEvent) -> None:
    """One shipment: its number, carrier and tracking, its lots (each with its certificate) and, while the order is
    partially shipped, what is still to come per line; as the event's data has them (a later shipment does not
    change what this one carried)."""
    data = json.loads(outbox_event.data)
    order = _order(customer, outbox_event)
    shipment = next((s for s in data["shipments"] if s["number"] == data.get("shipment")), None)
    if order is None or shipment is None:
        return
    to_come = [(changes.units_of(left, line["sku"]), line["backordered_quantity"]) for line in data["lines"]
               if (left := line["quantity"] - line["cancelled_quantity"] - line["shipped_quantity"]) > 0]
    lots = [(changes.units_of(item["quantity"], item["sku"]), item["lot_number"]) for item in shipment["lines"]]
    mail.send(customer.email, f"Order {order.number}: shipment {shipment['number']} has shipped", "order_shipped",
              order=order, shipment=shipment, lots=lots, to_come=to_come)


def _approval_outcome(customer: Customer, order: Order, decided: approvals.Decision) -> None:
    """Tell whoever placed the order that an approver approved or rejected it, who did, and the approver's
    note."""
    outcome = "approved" if decided.approved else "rejected"
    mail.send(customer.email, f"Order {order.number} {outcome}", "approval_outcome", order=order,
              approved=decided.approved, note=decided.note, by=decided.by,
              link=mail.absolute_url("storefront.order_detail", number=order.number))


def _order_approved(customer: Customer, outbox_event: OutboxEvent) -> None:
    order = _order(customer, outbox_event)
    decided = approvals.decision(order) if order is not None else None
    if decided is not None and decided.approved:
        _approval_outcome(customer, order, decided)


def _order_confirmed(customer: Customer, outbox_event: OutboxEvent) -> None:
    """The order acknowledgement, its PDF attached: made now, as the order was confirmed, and kept with the
    message (a retry sends the same document). None for an order cancelled meanwhile: its cancellation says so."""
    order = _order(customer, outbox_event, with_products=True)  # the acknowledgement names each line's product
    if order is None or order.status == OrderStatus.CANCELLED:
        return
    ack = acknowledgement.acknowledgement(order, outbox_event.created_at.date())
    document = mail.Attachment(ack.filename, "application/pdf", acknowledgement.acknowledgement_pdf(ack))
    mail.send(customer.email, f"Order {order.number} confirmed", "order_confirmed", attachments=[document],
              order=order, ack=ack, customer=customer, documents=order_documents.recorded(order))


def _order_cancelled(customer: Customer, outbox_event: OutboxEvent) -> None:
    """One message: an approver's rejection says so (with the approver's note); any other cancellation says the
    order was cancelled."""
    order = _order(customer, outbox_event)
    if order is None:
        return
    decided = approvals.decision(order)
    if decided is not None and not decided.approved:
        _approval_outcome(customer, order, decided)
        return
    cancelled = next(c for c in reversed(order.history) if c.to_status == OrderStatus.CANCELLED)
    by = cancelled.by  # who of the company acted: an API key's name (never its maker) or a person's e-mail
    reason = cancelled.note or (f"cancelled by {by}" if by is not None else "cancelled by our staff")
    mail.send(customer.email, f"Order {order.number} was cancelled", "order_cancelled", order=order,
              customer=customer, reason=reason.rstrip(".") + ".")
    if by is not None and cancelled.from_status == OrderStatus.AWAITING_APPROVAL:
        # The person who withdrew it knows; a key's maker did not act, and is told like any other approver.
        approvers = _approvers(order.company_id, but=cancelled.customer_id if cancelled.api_key_id is None else None)
        if approvers:  # they need not look at it any more
            mail.send(approvers, f"Order {order.number} withdrawn", "approval_withdrawn", order=order, by=by)


_COMPLAINT_SUBJECTS = {"open": "Complaint {number} received",
                       "investigating": "Complaint {number}: investigation started",
                       "closed": "Complaint {number} closed"}


def _complaint_updated(customer: Customer, outbox_event: OutboxEvent) -> None:
    """Tell the member who filed a complaint where it stands, as the event's data has it: received, under
    investigation, or closed with its resolution."""
    complaint = json.loads(outbox_event.data)
    mail.send(customer.email, _COMPLAINT_SUBJECTS[complaint["status"]].format(number=complaint["number"]),
              "complaint_updated", complaint=complaint, customer=customer,
              link=mail.absolute_url("storefront.complaint_detail", number=complaint["number"]))


def _quote_mail(subject: str, template: str) -> Callable[[Customer, OutboxEvent], None]:
    """The requester is told about their quote as the event's data has it (answered: its prices, last day and
    hold; expired)."""
    def send(customer: Customer, outbox_event: OutboxEvent) -> None:
        quote = json.loads(outbox_event.data)
        priced = [Decimal(line["line_total"]) for line in quote["lines"] if line["line_total"] is not None]
        mail.send(customer.email, subject.format(number=quote["number"]), template, quote=quote, customer=customer,
                  link=sales.quote_link(quote["number"]), total=sum(priced, Decimal("0.00")) if priced else None)
    return send


def _invoice_issued(customer: Customer, outbox_event: OutboxEvent) -> None:
    """The invoice (or credit note) with its Factur-X PDF attached, made now and kept with the message (a retry sends
    the same file): to the member who placed the order and the company's admins. What was due is told as the event
    says it was at issue (a payment or credit note may have come since)."""
    try:
        document = invoice_views.get_document(outbox_event.subject, customer.company_id)
    except NotFound:
        return
    credit_note = document.kind == DocumentKind.CREDIT_NOTE
    filename = f"{document.number}.pdf"
    pdf = mail.Attachment(filename, "application/pdf", invoice_pdf(document, invoice_documents.seller()))
    subject = f"{'Credit note' if credit_note else 'Invoice'} {document.number} for order {document.order_number}"
    recipients = sorted({customer.email, *addresses(customer.company_id, (MemberRole.ADMIN,))})
    # A credit note lowers what its invoice comes to: what is still owed on that invoice falls, and what had been
    # paid beyond its new amount is the buyer's money again (the order's, as staff see it). Both told as they are
    # now, as the message is written.
    corrected_due = invoice_views.amount_due(document.corrects) if credit_note else None
    held = max(unapplied_payments(document.order_id), Decimal("0.00")) if credit_note else None
    mail.send(recipients, subject, "invoice_issued", attachments=[pdf], document=document, credit_note=credit_note,
              filename=filename, due=Decimal(json.loads(outbox_event.data)["amount_due"]),
              corrected_due=corrected_due, held=held, vat_note=note_for(document.vat_rule))


_SENDERS: dict[str, Callable[[Customer, OutboxEvent], None]] = {
    "order.approved": _order_approved,
    "order.placed": _order_placed,
    "order.confirmed": _order_confirmed,
    "order.shipped": _order_shipped,
    "order.cancelled": _order_cancelled,
    "order.rejected": _order_cancelled,  # the approver's rejection, with their note
    "order.changed": _order_changed,
    "order.backorder_allocated": _backorder_allocated,
    "lot.recalled": _recall_notice,
    "complaint.updated": _complaint_updated,
    "quote.answered": _quote_mail("Quote {number} answered", "quote_answered"),
    "quote.expired": _quote_mail("Quote {number} expired", "quote_expired"),
    "invoice.issued": _invoice_issued,
}
