"""Helpers of the invoice tests (no tests here): a company on net terms, an order of it shipped (and so invoiced)
on a chosen day, a credit note and a payment, each through the real shipping, issuing and payment functions."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from sqlalchemy import select

from shop import fulfilment, ordering
from shop.accounts import companies
from shop.fulfilment import billing
from shop.invoicing import issuing, payments
from shop.invoicing.models import DocumentKind, Invoice, Payment
from shop.ordering.models import Order
from shop.platform.extensions import db
from tests.support.api import ADDRESS


def on_net_terms(customer, terms: str = "net_30"):
    """Put the customer's company on `terms` (no credit limit); the customer."""
    companies.set_terms(customer.company, terms)
    db.session.commit()
    return customer


def invoiced(customer, quantity: int = 1, on: date | None = None, sku: str = "LEU-USP-25KG") -> Invoice:
    """The invoice of a new order of `customer` (on net terms: see on_net_terms) placed and shipped whole on `on`
    (today)."""
    placed_at = datetime.combine(on, time(9), UTC) if on else None
    order = ordering.place_order(customer, [{"sku": sku, "quantity": quantity}], ADDRESS, placed_at=placed_at)
    db.session.commit()
    ordering.confirm_order(order.number)
    fulfilment.ship_order(order.number, "1Z999", on=on)
    _committed()
    return invoice_of(order.number)


def invoice_of(order_number: str) -> Invoice:
    """The latest invoice of a shipped order."""
    return db.session.scalar(select(Invoice).where(Invoice.order_number == order_number.upper(),
                                                   Invoice.kind == DocumentKind.INVOICE).order_by(Invoice.id.desc()))


def credit_note_of(invoice: Invoice, lines: Mapping[int, int] | None = None, issued_on: date | None = None) -> Invoice:
    """A credit note of `lines` ({position: units}; everything not yet credited without)."""
    note = issuing.issue_credit_note(invoice.number, lines, issued_on or billing.today())
    _committed()
    return note


def paid(invoice: Invoice, amount: str, on: date | None = None, reference: str = "Bank transfer") -> Payment:
    payment = billing.record_invoice_payment(invoice.number,
                                             payments.PaymentInput(amount, on or billing.today(), reference))
    _committed()
    return payment


def _committed() -> None:
    """Commit, and forget the orders' loaded `invoices` and `payments` (the session outlives the commit), as the
    next request reads them afresh."""
    db.session.commit()
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Order):
            db.session.expire(loaded, ["invoices", "payments"])
