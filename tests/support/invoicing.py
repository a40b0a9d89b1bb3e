"""Helpers of the invoice tests (no tests here): an invoice of a shipped order, issued on a chosen day, as rows
(until the issuing service lands), a credit note of it, and a payment against it."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from shop.invoicing import money
from shop.invoicing.models import DocumentKind, Invoice, InvoiceLine, Payment, VatRule
from shop.ordering.models import Order
from shop.platform.extensions import db

RATE = Decimal("19.00")


def _serial(kind: DocumentKind, year: int) -> int:
    return (db.session.scalar(select(func.max(Invoice.serial)).where(Invoice.kind == kind, Invoice.year == year))
            or 0) + 1


def invoice_of(order_number: str, issued_on: date | None = None, days: int = 30) -> Invoice:
    """An invoice of the whole (shipped) order, issued on `issued_on` (today), due `days` later."""
    order = db.session.scalar(select(Order).where(Order.number == order_number))
    issued_on = issued_on or date.today()
    lines = [InvoiceLine(position=i, order_line_id=line.id, sku=line.sku, description=f"L-Leucine, {line.sku}",
                         quantity=line.quantity, unit_price=line.unit_price,
                         net=money.line_net(line.quantity, line.unit_price),
                         lot_numbers=",".join(a.stock.batch.lot_number for a in line.allocations))
             for i, line in enumerate(order.lines, 1)]
    return _document(DocumentKind.INVOICE, order, issued_on, issued_on + timedelta(days=days), lines, None)


def credit_note_of(invoice: Invoice, quantity: int | None = None, issued_on: date | None = None) -> Invoice:
    """A credit note of `quantity` units of the invoice's first line (all of the invoice without)."""
    issued_on = issued_on or date.today()
    source = invoice.lines if quantity is None else invoice.lines[:1]
    lines = [InvoiceLine(position=i, order_line_id=line.order_line_id, sku=line.sku, description=line.description,
                         quantity=quantity or line.quantity, unit_price=line.unit_price,
                         net=money.line_net(quantity or line.quantity, line.unit_price), lot_numbers=line.lot_numbers)
             for i, line in enumerate(source, 1)]
    order = db.session.get(Order, invoice.order_id)
    note = _document(DocumentKind.CREDIT_NOTE, order, issued_on, issued_on, lines, invoice)
    invoice.amount_credited += note.gross
    db.session.commit()
    return note


def paid(invoice: Invoice, amount: str, on: date | None = None, reference: str = "Bank transfer") -> Payment:
    payment = Payment(company_id=invoice.company_id, order_id=invoice.order_id, invoice_id=invoice.id,
                      amount=Decimal(amount), paid_on=on or date.today(), reference=reference)
    invoice.amount_paid += payment.amount
    db.session.add(payment)
    db.session.commit()
    return payment


def _document(kind: DocumentKind, order: Order, issued_on: date, due_on: date, lines: list[InvoiceLine],
              corrects: Invoice | None) -> Invoice:
    totals = money.totals((line.net for line in lines), RATE)
    serial = _serial(kind, issued_on.year)
    prefix = "INV" if kind == DocumentKind.INVOICE else "CN"
    document = Invoice(kind=kind, number=f"{prefix}-{issued_on.year}-{serial:06d}", year=issued_on.year,
                       serial=serial, company_id=order.company_id, order_id=order.id, order_number=order.number,
                       corrects=corrects, issued_on=issued_on, due_on=due_on, payment_terms="net_30",
                       currency=order.currency, buyer_reference=order.purchase_order or "",
                       buyer_name=order.company.name, ship_country="DE", vat_rule=VatRule.DOMESTIC, vat_rate=RATE,
                       net=totals.net, vat=totals.vat, gross=totals.gross, lines=lines)
    db.session.add(document)
    db.session.commit()
    return document
