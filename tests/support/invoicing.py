"""Helpers of the invoice tests (no tests here): an invoice of a shipped order issued on a chosen day, a credit note
of it and a payment against it, each through the real issuing functions."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select

from shop.fulfilment import billing
from shop.invoicing import issuing, payments
from shop.invoicing.models import DocumentKind, Invoice, Payment
from shop.ordering.models import Order
from shop.ordering.queries import get_order
from shop.platform.extensions import db


def invoice_of(order_number: str, issued_on: date | None = None) -> Invoice:
    """The invoice of the order's latest shipment: the one shipping issued, else one issued now on `issued_on`
    (today), as shipping on that day would have."""
    order = get_order(order_number)
    shipment = order.shipments[-1]
    issued = db.session.scalar(select(Invoice).where(Invoice.shipment_id == shipment.id,
                                                     Invoice.kind == DocumentKind.INVOICE))
    if issued is None:
        issued = issuing.issue_invoice(billing.invoice_facts(order, shipment), billing.shipped_lines(shipment),
                                       issued_on or billing.today())
        _committed()
    return issued


def credit_note_of(invoice: Invoice, lines: Mapping[int, int] | None = None, issued_on: date | None = None) -> Invoice:
    """A credit note of `lines` ({position: units}; everything not yet credited without)."""
    note = issuing.issue_credit_note(invoice.number, lines, issued_on or billing.today())
    _committed()
    return note


def paid(invoice: Invoice, amount: str, on: date | None = None, reference: str = "Bank transfer") -> Payment:
    payment = payments.record_invoice_payment(
        invoice.number, payments.PaymentInput(amount, on or billing.today(), reference), billing.today())
    _committed()
    return payment


def _committed() -> None:
    """Commit, and forget the orders' loaded `invoices` and `payments` (the session outlives the commit), as the
    next request reads them afresh."""
    db.session.commit()
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Order):
            db.session.expire(loaded, ["invoices", "payments"])
