"""A company's statement: its invoices, credit notes and payments in date order, each with the balance it leaves
(what the company owes; below zero, what it has paid ahead). Two statements, whatever the number of entries."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from shop.invoicing.models import DocumentKind, Invoice, Payment
from shop.platform.database import Base
from shop.platform.extensions import db

ZERO = Decimal("0.00")
# On one day: the invoices first, then what lowers them.
_ORDER_ON_A_DAY = {"invoice": 0, "credit_note": 1, "payment": 2}


@dataclass(frozen=True)
class Entry:
    """One line of a statement: `debit` raises what the company owes, `credit` lowers it."""

    on: date
    kind: str  # invoice | credit_note | payment
    reference: str  # the document's number, or the payment's reference
    order_number: str
    invoice_number: str  # the invoice a credit note corrects or a payment settles; "" if none
    debit: Decimal
    credit: Decimal
    id: int = 0


@dataclass(frozen=True)
class Line:
    entry: Entry
    balance: Decimal


@dataclass(frozen=True)
class Statement:
    lines: tuple[Line, ...]

    @property
    def balance(self) -> Decimal:
        return self.lines[-1].balance if self.lines else ZERO


def running(entries: Iterable[Entry]) -> Statement:
    """The entries in date order (invoices, credit notes, payments on one day), each with the running balance."""
    balance, lines = ZERO, []
    for entry in sorted(entries, key=lambda e: (e.on, _ORDER_ON_A_DAY[e.kind], e.id)):
        balance += entry.debit - entry.credit
        lines.append(Line(entry, balance))
    return Statement(tuple(lines))


def company_statement(company_id: int) -> Statement:
    """The company's statement: every document it was issued and every payment it made."""
    return running([*_documents(company_id), *_payments(company_id)])


def _documents(company_id: int) -> list[Entry]:
    corrected = Invoice.__table__.alias("corrected")
    rows = db.session.execute(
        select(Invoice.id, Invoice.kind, Invoice.number, Invoice.issued_on, Invoice.order_number, Invoice.gross,
               corrected.c.number.label("corrects"))
        .outerjoin(corrected, corrected.c.id == Invoice.corrects_id)
        .where(Invoice.company_id == company_id))
    return [Entry(row.issued_on, row.kind.value, row.number, row.order_number, row.corrects or "",
                  row.gross if row.kind == DocumentKind.INVOICE else ZERO,
                  row.gross if row.kind == DocumentKind.CREDIT_NOTE else ZERO, row.id) for row in rows]


def _payments(company_id: int) -> list[Entry]:
    # The order table by name: invoicing sits below ordering and does not import its models.
    order = Base.metadata.tables["order"]
    rows = db.session.execute(
        select(Payment.id, Payment.paid_on, Payment.reference, Payment.amount, order.c.number.label("order_number"),
               Invoice.number.label("invoice_number"))
        .join(order, order.c.id == Payment.order_id)
        .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
        .where(Payment.company_id == company_id))
    return [Entry(row.paid_on, "payment", row.reference, row.order_number, row.invoice_number or "", ZERO,
                  row.amount, row.id) for row in rows]
