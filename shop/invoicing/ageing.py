"""The ageing summary: on a given day, what each company still owes, by how long it is overdue (not yet due,
1–30, 31–60, 61–90, over 90 days), with totals per company and overall. One statement reads the open invoices;
the bucketing is a pure function over plain rows."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from shop.accounts.models import Company
from shop.invoicing.models import DocumentKind, Invoice
from shop.platform.extensions import db

# (label, the last day overdue it holds); a day past the last bound is "over 90".
BUCKETS = (("Not yet due", 0), ("1–30 days", 30), ("31–60 days", 60), ("61–90 days", 90), ("Over 90 days", None))
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OpenAmount:
    """What is still due on one invoice, and when it fell due."""

    company_id: int
    company_name: str
    due_on: date
    amount_due: Decimal


@dataclass(frozen=True)
class CompanyAgeing:
    company_id: int
    company_name: str
    buckets: tuple[Decimal, ...]  # one amount per BUCKETS entry

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass(frozen=True)
class Ageing:
    on: date
    companies: tuple[CompanyAgeing, ...]  # by name

    @property
    def totals(self) -> tuple[Decimal, ...]:
        """Each bucket's total over every company."""
        return tuple(sum(amounts, ZERO) for amounts in zip(*(c.buckets for c in self.companies), strict=True)) \
            if self.companies else tuple(ZERO for _ in BUCKETS)

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)


def bucket_of(days_overdue: int) -> int:
    """The index in BUCKETS of an amount overdue by `days_overdue` (0 or less: due today or later, not yet due)."""
    for index, (_, last_day) in enumerate(BUCKETS):
        if last_day is not None and days_overdue <= last_day:
            return index
    return len(BUCKETS) - 1


def age(amounts: Iterable[OpenAmount], on: date) -> Ageing:
    """The ageing summary on `on` of these open amounts, per company (by name) and bucket."""
    per_company: dict[int, tuple[str, list[Decimal]]] = {}
    for amount in amounts:
        _, buckets = per_company.setdefault(amount.company_id, (amount.company_name, [ZERO] * len(BUCKETS)))
        buckets[bucket_of((on - amount.due_on).days)] += amount.amount_due
    companies = (CompanyAgeing(company_id, name, tuple(buckets))
                 for company_id, (name, buckets) in per_company.items())
    return Ageing(on, tuple(sorted(companies, key=lambda c: (c.company_name, c.company_id))))


def ageing_summary(on: date) -> Ageing:
    """The ageing summary on `on` of every invoice issued by then with something still due."""
    due = Invoice.gross - Invoice.amount_paid - Invoice.amount_credited
    rows = db.session.execute(
        select(Invoice.company_id, Company.name, Invoice.due_on, due.label("amount_due"))
        .join(Company, Company.id == Invoice.company_id)
        .where(Invoice.kind == DocumentKind.INVOICE, Invoice.issued_on <= on, due > 0))
    return age((OpenAmount(*row) for row in rows), on)
