"""The staff dashboard's work queue: open orders waiting for someone, oldest first."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, or_, select

from shop.accounts.models import Company
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine, OrderStatus
from shop.ordering.shortages import OPEN_STATUSES, short_order_ids
from shop.platform.extensions import db


@dataclass(frozen=True)
class QueuedOrder:
    number: str
    placed_at: datetime
    company: str
    status: OrderStatus
    total: Decimal
    currency: str
    needs_attention: bool
    ordered_units: int
    allocated_units: int

    @property
    def short(self) -> bool:
        return self.allocated_units < self.ordered_units


@dataclass(frozen=True)
class Queue:
    """The first orders of one kind of work, and how many there are in all."""

    orders: list[QueuedOrder]
    count: int


@dataclass(frozen=True)
class WorkQueue:
    to_confirm: Queue  # pending and holding every unit: accept or cancel (a short one is under `short`)
    attention: Queue  # a recall took stock away and the order could not be covered again
    short: Queue  # open orders a line of which holds fewer units than it is to deliver (ordering.shortages)


def _ordered():
    """Units the order's lines are to deliver (ordered, less any missing units cancelled)."""
    return (select(func.coalesce(func.sum(OrderLine.quantity - OrderLine.cancelled_quantity), 0))
            .where(OrderLine.order_id == Order.id).correlate(Order).scalar_subquery())


def _held():
    """Units allocated to (or shipped with) the order."""
    return (select(func.coalesce(func.sum(Allocation.quantity), 0))
            .join(OrderLine, OrderLine.id == Allocation.order_line_id)
            .where(OrderLine.order_id == Order.id,
                   Allocation.status.in_((AllocationStatus.ALLOCATED, AllocationStatus.SHIPPED)))
            .correlate(Order).scalar_subquery())


def work_queue(limit: int = 10) -> WorkQueue:
    """Each kind of waiting work with its oldest `limit` orders; four statements, over open orders only
    (ordering.shortages.OPEN_STATUSES, so also one awaiting approval that a recall left short or flagged; found by
    the status index). Short is ordering.shortages' definition: a line holds fewer units than it is to deliver."""
    ordered, allocated = _ordered(), _held()
    # A short order cannot be confirmed (actions.confirm_order refuses it): it waits under "short", to be filled.
    short = Order.id.in_(short_order_ids())
    kinds = {"to_confirm": (Order.status == OrderStatus.PENDING) & ~short,
             "attention": Order.needs_attention.is_(True), "short": short}
    counts = db.session.execute(
        select(*(func.coalesce(func.sum(case((condition, 1), else_=0)), 0) for condition in kinds.values()))
        .where(Order.status.in_(OPEN_STATUSES), or_(*kinds.values()))
    ).one()
    queues = {}
    for (name, condition), count in zip(kinds.items(), counts, strict=True):
        rows = db.session.execute(
            select(Order.number, Order.placed_at, Company.name, Order.status, Order.total, Order.currency,
                   Order.needs_attention, ordered, allocated)
            .join(Company, Company.id == Order.company_id)
            .where(Order.status.in_(OPEN_STATUSES), condition)
            .order_by(Order.placed_at, Order.id)
            .limit(limit)
        ).all() if count else []
        queues[name] = Queue([QueuedOrder(*row) for row in rows], int(count))
    return WorkQueue(**queues)
