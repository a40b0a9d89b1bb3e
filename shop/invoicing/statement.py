"""A company's statement for a period: the balance brought forward from before it, then its invoices, credit notes,
payments and refunds in date order, each with the balance it leaves (what the company owes; below zero, what it has
paid ahead or was credited and not yet refunded). Four statements, whatever the number of entries and however long
the company's history."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Numeric, case, func, select, type_coerce

from shop.invoicing.models import DocumentKind, Invoice, Payment, Refund
from shop.invoicing.money import cents
from shop.platform.database import Base
from shop.platform.extensions import db

ZERO = Decimal("0.00")
# On one day: the invoices first, then what lowers them.
_ORDER_ON_A_DAY = {"invoice": 0, "credit_note": 1, "payment": 2, "refund": 3}


@dataclass(frozen=True)
class Entry:
    """One line of a statement: `debit` raises what the company owes, `credit` lowers it."""

    on: date
    kind: str  # invoice | credit_note | payment | refund
    reference: str  # the document's number, or the payment's reference
    order_number: str
    invoice_number: str  # the invoice a credit note corrects or a payment settles; "" if none (a refund)
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
    opening: Decimal = ZERO  # the balance brought forward: what the entries before the period left

    @property
    def balance(self) -> Decimal:
        return self.lines[-1].balance if self.lines else self.opening


def running(entries: Iterable[Entry], opening: Decimal = ZERO) -> Statement:
    """The entries in date order (invoices, credit notes, payments on one day), each with the running balance,
    starting from `opening`."""
    balance, lines = opening, []
    for entry in sorted(entries, key=lambda e: (e.on, _ORDER_ON_A_DAY[e.kind], e.id)):
        balance += entry.debit - entry.credit
        lines.append(Line(entry, balance))
    return Statement(tuple(lines), opening)


def company_statement(company_id: int, start: date, end: date) -> Statement:
    """The company's statement from `start` to `end`, both included: the balance brought forward from everything
    before `start`, then every document it was issued, every payment it made and every refund it got in the period."""
    period = [*_documents(company_id, start, end), *_payments(company_id, start, end),
              *_refunds(company_id, start, end)]
    return running(period, _balance_before(company_id, start))


def _balance_before(company_id: int, start: date) -> Decimal:
    """What the company's invoices, credit notes and payments dated before `start` left it owing (one statement)."""
    charged = (select(func.coalesce(func.sum(case((Invoice.kind == DocumentKind.INVOICE, Invoice.gross),
                                                  else_=-Invoice.gross)), 0))
               .where(Invoice.company_id == company_id, Invoice.issued_on < start).scalar_subquery())
    paid = (select(func.coalesce(func.sum(Payment.amount), 0))
            .where(Payment.company_id == company_id, Payment.paid_on < start).scalar_subquery())
    refunded = (select(func.coalesce(func.sum(Refund.amount), 0))
                .where(Refund.company_id == company_id, Refund.paid_on < start).scalar_subquery())
    return cents(Decimal(db.session.scalar(select(type_coerce(charged - paid + refunded, Numeric(14, 2))))))


def _documents(company_id: int, start: date, end: date) -> list[Entry]:
    corrected = Invoice.__table__.alias("corrected")
    rows = db.session.execute(
        select(Invoice.id, Invoice.kind, Invoice.number, Invoice.issued_on, Invoice.order_number, Invoice.gross,
               corrected.c.number.label("corrects"))
        .outerjoin(corrected, corrected.c.id == Invoice.corrects_id)
        .where(Invoice.company_id == company_id, Invoice.issued_on.between(start, end)))
    return [Entry(row.issued_on, row.kind.value, row.number, row.order_number, row.corrects or "",
                  row.gross if row.kind == DocumentKind.INVOICE else ZERO,
                  row.gross if row.kind == DocumentKind.CREDIT_NOTE else ZERO, row.id) for row in rows]


def _payments(company_id: int, start: date, end: date) -> list[Entry]:
    # The order table by name: invoicing sits below ordering and does not import its models.
    order = Base.metadata.tables["order"]
    rows = db.session.execute(
        select(Payment.id, Payment.paid_on, Payment.reference, Payment.amount, order.c.number.label("order_number"),
               Invoice.number.label("invoice_number"))
        .join(order, order.c.id == Payment.order_id)
        .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
        .where(Payment.company_id == company_id, Payment.paid_on.between(start, end)))
    return [Entry(row.paid_on, "payment", row.reference, row.order_number, row.invoice_number or "", ZERO,
                  row.amount, row.id) for row in rows]


def _refunds(company_id: int, start: date, end: date) -> list[Entry]:
    """Money paid back: it raises the balance again (from below zero, where a credit note left it)."""
    order = Base.metadata.tables["order"]
    rows = db.session.execute(
        select(Refund.id, Refund.paid_on, Refund.reference, Refund.amount, order.c.number.label("order_number"))
        .join(order, order.c.id == Refund.order_id)
        .where(Refund.company_id == company_id, Refund.paid_on.between(start, end)))
    return [Entry(row.paid_on, "refund", row.reference, row.order_number, "", row.amount, ZERO, row.id)
            for row in rows]
