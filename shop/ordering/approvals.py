"""Order approvals: a buyer's order above the company's threshold waits, stock allocated, for an approver.

An approver (or admin; a person or an approver key) approves it (-> pending, for staff to confirm) or rejects
it (-> cancelled, stock released); either a second time is 409. Four eyes, as for a lot's release: nobody decides
an order they placed, neither in person nor with one of their keys (an order placed with a key is its maker's),
so a member demoted or promoted in between cannot wave their own order through; the placer may withdraw it.
Orders waiting longer than APPROVAL_EXPIRY_HOURS are cancelled by `expire_waiting` (the `expire-approvals`
command), stock released.
Every decision is an order status change: who, when, and the note.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from shop import ordering
from shop.accounts.models import MemberRole
from shop.ordering import credit
from shop.ordering.lifecycle import Actor
from shop.ordering.models import Order, OrderStatus
from shop.ordering.queries import order_options
from shop.platform.database import utcnow
from shop.platform.errors import Forbidden, IllegalTransition
from shop.platform.extensions import db

MAX_NOTE = 500
APPROVED, REJECTED = "Approved.", "Rejected."  # how a decision's note in the order history begins
EXPIRED_NOTE = "Not approved within {hours} hours: cancelled, stock released"
OWN_ORDER = ("You placed order {number} (in person or with one of your API keys): another approver or admin decides "
             "it. You may withdraw it instead.")


class Member(Protocol):
    """Who acts: a signed-in member, or an API key (its maker's id, its company, the key's role, id and name)."""

    id: int
    company_id: int
    role: MemberRole
    key_id: int | None
    actor_name: str


def _decide(number: str, member: Member, note: str) -> tuple[Order, str]:
    if not member.role.may(MemberRole.APPROVER):
        raise Forbidden("Only an approver or admin of the company may approve or reject its orders.")
    note = (note or "").strip()[:MAX_NOTE]
    order = ordering.get_order(number, company_id=member.company_id, lock=True)
    if placed_by(order, member):
        raise Forbidden(OWN_ORDER.format(number=order.number))
    if order.status != OrderStatus.AWAITING_APPROVAL:
        raise IllegalTransition(f"Order {order.number} is {order.status.value}: it no longer awaits approval.")
    if _expired(order, utcnow()):
        raise IllegalTransition(f"Order {order.number} waited longer than {_hours()} hours for approval and is "
                                "being cancelled.")
    return order, note


def placed_by(order: Order, member: Member) -> bool:
    """Whether `member` placed the order, in person or with any of their keys (a key's order records its maker)."""
    return order.customer_id == member.id


def approve(number: str, member: Member, note: str = "") -> Order:
    """Approve an order of the member's company: it becomes pending, for staff to confirm. Refused
    (CreditLimitExceeded) when the company's credit no longer has room for it (ordering.credit)."""
    order, note = _decide(number, member, note)
    credit.check_approval(order)
    ordering.move(order, OrderStatus.PENDING, Actor.approver(member), f"{APPROVED} {note}".strip())
    db.session.flush()
    return order


def reject(number: str, member: Member, note: str = "") -> Order:
    """Reject an order of the member's company: it is cancelled and its stock released (`order.rejected`)."""
    _, note = _decide(number, member, note)
    return ordering.cancel_order(number, customer=member, actor=Actor.approver(member),
                                 reason=f"{REJECTED} {note}".strip(), rejection=note)


def queue(company_id: int) -> list[Order]:
    """The company's orders awaiting approval, oldest first, with their lines' allocations and lots, so that what a
    recall left one short of (shortages.missing_now) is shown before an approver decides."""
    return list(db.session.scalars(
        select(Order).where(Order.company_id == company_id, Order.status == OrderStatus.AWAITING_APPROVAL)
        .options(*order_options(with_products=True))
        .order_by(Order.placed_at, Order.id)))


def _hours() -> int:
    return current_app.config["APPROVAL_EXPIRY_HOURS"]


def _expired(order: Order, now: datetime) -> bool:
    return order.placed_at < now - timedelta(hours=_hours())


def expire_waiting(now: datetime | None = None) -> list[str]:
    """Cancel every order that has waited for approval longer than APPROVAL_EXPIRY_HOURS, releasing its stock;
    the numbers cancelled. The caller commits."""
    cutoff = (now or utcnow()) - timedelta(hours=_hours())
    numbers = list(db.session.scalars(select(Order.number).where(
        Order.status == OrderStatus.AWAITING_APPROVAL, Order.placed_at < cutoff).order_by(Order.id)))
    for number in numbers:
        ordering.cancel_order(number, reason=EXPIRED_NOTE.format(hours=_hours()))
    return numbers


@dataclass(frozen=True)
class Decision:
    """An approver's decision on an order, as its history records it: who decided (a person's e-mail or an API
    key's name)."""

    approved: bool
    note: str
    by: str


def decision(order: Order) -> Decision | None:
    """The approver's decision that took the order out of awaiting approval, if one did (not an expiry, nor the
    company withdrawing it)."""
    for change in reversed(order.history):
        if change.from_status == OrderStatus.AWAITING_APPROVAL and change.customer_id is not None:
            for prefix, approved in ((APPROVED, True), (REJECTED, False)):
                if change.note.startswith(prefix):
                    return Decision(approved, change.note.removeprefix(prefix).strip(), change.by or "")
    return None
