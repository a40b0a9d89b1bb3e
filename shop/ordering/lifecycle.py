"""The life cycle: one table of the status changes an order may make and who may make each, and `move`,
through which every status change goes (API, storefront and staff pages alike, by way of `actions`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shop.accounts.models import MemberRole, StaffRole, StaffUser
from shop.ordering import announce
from shop.ordering.models import Order, OrderStatus, OrderStatusChange
from shop.platform.database import utcnow
from shop.platform.errors import Forbidden, IllegalTransition

CUSTOMER = "customer"
APPROVER = "approver"  # a member (or key) of the order's company with the approver or admin role
SYSTEM = "system"  # no person: a command-line task or a test
ALWAYS_ALLOWED = frozenset({StaffRole.ADMIN.value, SYSTEM})


class CustomerRef(Protocol):
    """A Customer (a member of a company), or the API's key holder, of which only the ids, role and name are
    known."""

    @property
    def id(self) -> int: ...  # the person, or the member who made the key

    @property
    def company_id(self) -> int: ...

    @property
    def role(self) -> MemberRole: ...

    @property
    def key_id(self) -> int | None: ...  # the API key that acts, None for a person

    @property
    def actor_name(self) -> str: ...  # a person's e-mail, or the key's name


@dataclass(frozen=True)
class Actor:
    """Who moves an order: a role (a staff role, "customer" or "system"), the person's id and, when an API key
    acts, the key's."""

    role: str
    staff_id: int | None = None
    customer_id: int | None = None
    api_key_id: int | None = None

    @classmethod
    def of(cls, staff: StaffUser | None = None, customer: CustomerRef | None = None) -> Actor:
        if staff is not None:
            return cls(_order_role(staff), staff_id=staff.id)
        if customer is not None:
            return cls(CUSTOMER, customer_id=customer.id, api_key_id=customer.key_id)
        return cls(SYSTEM)

    @classmethod
    def approver(cls, member: CustomerRef) -> Actor:
        """A member deciding on an approval: an approver only when their role allows it."""
        return cls(APPROVER if member.role.may(MemberRole.APPROVER) else CUSTOMER, customer_id=member.id,
                   api_key_id=member.key_id)


def _order_role(staff: StaffUser) -> str:
    """Which of a staff member's roles moves orders: admin when held, else fulfilment when held, else any (one
    that the table refuses)."""
    held = [r for r in (StaffRole.ADMIN, StaffRole.FULFILMENT) if staff.holds(r)] or sorted(staff.roles)
    return held[0].value


@dataclass(frozen=True)
class Transition:
    source: OrderStatus
    target: OrderStatus
    roles: frozenset[str]  # besides admin and system, who may make it


_FULFILMENT = frozenset({StaffRole.FULFILMENT.value})
_FULFILMENT_OR_CUSTOMER = _FULFILMENT | {CUSTOMER}

TRANSITIONS: tuple[Transition, ...] = (
    # Held for the company's approval (ordering.approvals): approved, or rejected, withdrawn or expired.
    Transition(OrderStatus.AWAITING_APPROVAL, OrderStatus.PENDING, frozenset({APPROVER})),
    Transition(OrderStatus.AWAITING_APPROVAL, OrderStatus.CANCELLED, _FULFILMENT_OR_CUSTOMER | {APPROVER}),
    Transition(OrderStatus.PENDING, OrderStatus.CONFIRMED, _FULFILMENT),
    Transition(OrderStatus.CONFIRMED, OrderStatus.SHIPPED, _FULFILMENT),
    # Shipping part of an order (fulfilment.shipments): each further shipment is a move to the same status, so that
    # it has its place in the history and its order.shipped event; the last one, or cancelling the backordered
    # remainder once everything else has shipped, makes the order shipped.
    Transition(OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_SHIPPED, _FULFILMENT),
    Transition(OrderStatus.PARTIALLY_SHIPPED, OrderStatus.PARTIALLY_SHIPPED, _FULFILMENT),
    Transition(OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, _FULFILMENT_OR_CUSTOMER),
    Transition(OrderStatus.SHIPPED, OrderStatus.DELIVERED, _FULFILMENT),
    Transition(OrderStatus.PENDING, OrderStatus.CANCELLED, _FULFILMENT_OR_CUSTOMER),
    Transition(OrderStatus.CONFIRMED, OrderStatus.CANCELLED, _FULFILMENT_OR_CUSTOMER),
)


def transition(source: OrderStatus, target: OrderStatus) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source == source and t.target == target), None)


def move(order: Order, target: OrderStatus, actor: Actor, note: str = "", *,
         rejection: str | None = None, shipment: str | None = None) -> OrderStatusChange:
    """Move the order to `target`, recorded in its history; raise IllegalTransition when its status does not
    allow it, Forbidden when the actor's role may not. The caller does what the move means for the stock. A
    `rejection` (the approver's note) announces the cancellation as `order.rejected`; a `shipment` (its number)
    announces order.shipped with it."""
    allowed = transition(order.status, target)
    if allowed is None:
        raise IllegalTransition(f"Order {order.number} is {order.status} and cannot be {target}.")
    if actor.role not in allowed.roles | ALWAYS_ALLOWED:
        raise Forbidden(f"A {actor.role} may not make order {order.number} {target}.")
    change = OrderStatusChange(from_status=order.status, to_status=target, staff_id=actor.staff_id,
                               customer_id=actor.customer_id, api_key_id=actor.api_key_id, note=note, at=utcnow())
    order.history.append(change)
    order.status = target
    if rejection is not None:  # its outbox row, written as the transaction commits
        announce.order_rejected(order, change, rejection)
    elif shipment is not None:
        announce.order_shipped(order, change, shipment)
    else:
        announce.order_status_changed(order, change)
    return change
