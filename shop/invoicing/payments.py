"""Payments that finance staff record: against an order (money paid ahead, before or without an invoice) or an
invoice (which counts it as paid), and refunds (money paid back of what no invoice has taken). Partial payments add
up; a payment or refund is refused, nothing written, when its amount is not a plain positive amount ("1,500" is
never guessed at) or is more than is still due (or can be refunded)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from shop.invoicing.issuing import get_document, paid_for_order, unapplied_payments
from shop.invoicing.models import DocumentKind, Invoice, Payment, Refund
from shop.platform.amounts import parse_amount
from shop.platform.audit import audit
from shop.platform.bounds import is_plain_date
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db
from shop.platform.names import checked_name
from shop.platform.wording import money

MAX_REFERENCE = 140


@dataclass(frozen=True)
class OrderDue:
    """What a payment against an order needs to know of it: the caller reads it under the order's lock."""

    order_id: int
    order_number: str
    company_id: int
    total: Decimal  # gross, VAT included
    currency: str
    placed_on: date  # no money for the order can have come before it was placed


@dataclass(frozen=True)
class PaymentInput:
    """A payment as staff entered it, unchecked: amount as typed, the day it was paid, the bank's reference."""

    amount: object
    paid_on: object
    reference: object = ""


def due_on_order(order: OrderDue) -> Decimal:
    """What is still to pay for the order: its total, less what was paid and what credit notes took off."""
    credited = db.session.scalar(select(func.coalesce(func.sum(Invoice.amount_credited), 0))
                                 .where(Invoice.order_id == order.order_id, Invoice.kind == DocumentKind.INVOICE))
    return order.total - paid_for_order(order.order_id) - Decimal(credited)


def record_order_payment(order: OrderDue, given: PaymentInput, today: date, staff_id: int | None = None) -> Payment:
    """Record money paid against an order (before or without an invoice: the next invoice of the order takes it).
    InvalidInput by field, nothing written: see `_checked`."""
    return _record_for_order(Payment, "payment.recorded", order, due_on_order(order), given, today, staff_id)


def record_invoice_payment(invoice_number: str, given: PaymentInput, placed_on: date, today: date,
                           staff_id: int | None = None) -> Payment:
    """Record money paid against an invoice: it counts as paid on the invoice (under the invoice's lock, so two
    payments at once never pay more than its gross); `placed_on`: the day its order was placed, which this area
    does not read. InvalidInput by field, nothing written: see `_checked`."""
    invoice = get_document(invoice_number, lock=True)
    if invoice.kind != DocumentKind.INVOICE:
        raise InvalidInput({"invoice": [f"{invoice.number} is a credit note: payments are recorded on invoices."]})
    amount, paid_on, reference = _checked(given, invoice.amount_due, invoice.currency, invoice.number, placed_on,
                                          today)
    payment = Payment(company_id=invoice.company_id, order_id=invoice.order_id, invoice_id=invoice.id,
                      amount=amount, paid_on=paid_on, reference=reference, staff_id=staff_id)
    invoice.amount_paid += amount
    db.session.add(payment)
    db.session.flush()
    _audit(staff_id, "payment.recorded", f"invoice {invoice.number} of order {invoice.order_number}", amount,
           invoice.currency, paid_on, reference)
    return payment


def record_refund(order: OrderDue, given: PaymentInput, today: date, staff_id: int | None = None) -> Refund:
    """Record money paid back to the buyer of the order: at most what its payments hold that no invoice has taken
    (paid ahead and never invoiced, or given back by a credit note). The caller holds the order's lock.
    InvalidInput by field, nothing written: see `_checked`."""
    return _record_for_order(Refund, "refund.recorded", order, unapplied_payments(order.order_id), given, today,
                             staff_id, owed="that can be refunded", moved="the money was paid out")


def _record_for_order(model: type[Payment] | type[Refund], action: str, order: OrderDue, most: Decimal,
                      given: PaymentInput, today: date, staff_id: int | None, **wording: str) -> Payment | Refund:
    """Check money moved for an order (at most `most`; `wording` for `_checked`'s messages), write its row and its
    audit entry."""
    amount, paid_on, reference = _checked(given, most, order.currency, f"order {order.order_number}",
                                          order.placed_on, today, **wording)
    row = model(company_id=order.company_id, order_id=order.order_id, amount=amount, paid_on=paid_on,
                reference=reference, staff_id=staff_id)
    db.session.add(row)
    db.session.flush()
    _audit(staff_id, action, f"order {order.order_number}", amount, order.currency, paid_on, reference)
    return row


def _audit(staff_id: int | None, action: str, subject: str, amount: Decimal, currency: str, paid_on: date,
           reference: str) -> None:
    """The audit log's entry of money recorded by staff, beside the payment's or refund's own row: the audit page is
    where staff look up what was done to an order or invoice."""
    audit(staff_id, action, subject, f"{money(amount, currency)} on {paid_on}"
                                     + (f", reference “{reference}”" if reference else ""))


def _checked(given: PaymentInput, due: Decimal, currency: str, what: str, placed_on: date,
             today: date, owed: str = "still due", moved: str = "the money arrived") -> tuple[Decimal, date, str]:
    """The amount (a plain positive amount, at most `due`), the day (a date from the day the order was placed to
    today: a year mistyped is refused, not booked) and the reference, or InvalidInput naming every field refused."""
    errors: dict[str, list[str]] = {}
    amount = parse_amount(given.amount)
    if amount is None:
        errors["amount"] = ["Write a positive amount with a decimal point and at most two decimals, such as 1500.00 "
                            "(no thousands separator: 1,500 is refused rather than guessed)."]
    elif amount > due:
        errors["amount"] = [f"That is more than the {money(max(due, Decimal(0)), currency)} {owed} on {what}."]
    paid_on = given.paid_on
    if not is_plain_date(paid_on) or paid_on > today:  # type: ignore[operator]  (a date, checked first)
        errors["paid_on"] = [f"Give the day {moved}, no later than today."]
    elif paid_on < placed_on:  # type: ignore[operator]
        errors["paid_on"] = [f"Give the day {moved}: not before the order was placed, on {placed_on}."]
    reference = checked_name(given.reference, "reference", MAX_REFERENCE, errors)
    if errors:
        raise InvalidInput(errors)
    return amount, paid_on, reference  # type: ignore[return-value]  (both checked above)
