"""A company's open exposure (what it owes or will owe: DESIGN.md, "Payment terms, credit and invoices") and what
the API tells a company about itself.

Open exposure = the gross totals of its orders neither cancelled nor fully invoiced (their uninvoiced part) + the
amounts still due on its issued invoices. As invoices are issued for the units of the orders, the same sum needs no
knowledge of how payments are applied: the totals of its orders not cancelled, less what was paid against them and
not refunded, less what credit notes took off their invoices; one statement (`exposure_of`), shared by placing,
approval and `GET /api/v1/company`. Below zero when a credit note gave back money paid that is not refunded yet."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Numeric, and_, func, select, type_coerce

from shop.accounts.companies import get_company
from shop.invoicing.models import DocumentKind, Invoice, Payment, Refund
from shop.invoicing.money import cents
from shop.ordering.models import Order, OrderStatus
from shop.platform.extensions import db

# --- What the API tells a company about itself --------------------------------------------------


@dataclass(frozen=True)
class CompanyView:
    name: str
    vat_id: str
    payment_terms: str
    credit_limit: Decimal | None
    approval_threshold: Decimal | None
    open_exposure: Decimal
    available_credit: Decimal | None


def exposure_of(company_id) -> ColumnElement[Decimal]:
    """The open exposure of the company `company_id` (a value or a bind parameter) as one SQL expression."""
    live = and_(Order.company_id == company_id, Order.status != OrderStatus.CANCELLED)

    def summed(amount, source, *where):
        return select(func.coalesce(func.sum(amount), 0)).select_from(source).where(live, *where).scalar_subquery()

    orders = Order.__table__
    ordered = summed(Order.total, orders)
    paid = summed(Payment.amount, orders.join(Payment, Payment.order_id == Order.id))
    refunded = summed(Refund.amount, orders.join(Refund, Refund.order_id == Order.id))
    credited = summed(Invoice.amount_credited, orders.join(Invoice, Invoice.order_id == Order.id),
                      Invoice.kind == DocumentKind.INVOICE)
    return type_coerce(ordered - paid + refunded - credited, Numeric(14, 2))


def open_exposure(company_id: int) -> Decimal:
    """The company's open exposure now, in cents."""
    return cents(Decimal(db.session.scalar(select(exposure_of(company_id)))))


def available_credit(credit_limit: Decimal | None, exposure: Decimal) -> Decimal | None:
    """What the company may still order for on credit: its limit less its exposure (None without a limit)."""
    return credit_limit - exposure if credit_limit is not None else None


def company_view(company_id: int) -> CompanyView:
    company = get_company(company_id)
    exposure = open_exposure(company_id)
    return CompanyView(company.name, company.vat_id, company.payment_terms, company.credit_limit,
                       company.approval_threshold, exposure, available_credit(company.credit_limit, exposure))
