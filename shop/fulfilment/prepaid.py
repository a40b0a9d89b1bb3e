"""Prepaid orders that wait for their money: confirmed or pending, not cancelled, less paid than their total. What
finance looks for to record a payment, so that the warehouse may ship them."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from shop.accounts.models import PREPAID, Company
from shop.invoicing.models import Payment
from shop.ordering.models import Order, OrderStatus
from shop.platform.extensions import db

WAITING = (OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING, OrderStatus.CONFIRMED,
           OrderStatus.PARTIALLY_SHIPPED)
LIMIT = 100


@dataclass(frozen=True)
class Awaiting:
    number: str
    company: str
    status: OrderStatus
    total: Decimal
    paid: Decimal
    currency: str

    @property
    def due(self) -> Decimal:
        return self.total - self.paid


def awaiting_payment(limit: int = LIMIT) -> list[Awaiting]:
    """The oldest prepaid orders still open that are not paid in full (at most `limit`): one statement."""
    paid = (select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.order_id == Order.id)
            .scalar_subquery())
    rows = db.session.execute(
        select(Order.number, Company.name, Order.status, Order.total, paid.label("paid"), Order.currency)
        .join(Company, Company.id == Order.company_id)
        .where(Order.payment_terms == PREPAID, Order.status.in_(WAITING), paid < Order.total)
        .order_by(Order.placed_at, Order.id).limit(limit))
    return [Awaiting(row.number, row.name, row.status, row.total, Decimal(row.paid), row.currency) for row in rows]
