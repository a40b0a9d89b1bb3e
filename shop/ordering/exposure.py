"""A company's open exposure: what its orders not cancelled add up to, beside its terms."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from shop.accounts.companies import get_company
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


def open_exposure(company_id: int) -> Decimal:
    """The total of the company's orders neither cancelled nor yet invoiced (no invoices exist yet)."""
    total = db.session.scalar(select(func.coalesce(func.sum(Order.total), 0))
                              .where(Order.company_id == company_id, Order.status != OrderStatus.CANCELLED))
    return Decimal(total).quantize(Decimal("0.01"))


def company_view(company_id: int) -> CompanyView:
    company = get_company(company_id)
    exposure = open_exposure(company_id)
    available = company.credit_limit - exposure if company.credit_limit is not None else None
    return CompanyView(company.name, company.vat_id, company.payment_terms, company.credit_limit,
                       company.approval_threshold, exposure, available)
