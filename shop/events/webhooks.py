"""Webhook endpoints: register, list, change (or re-enable), rotate the secret of, disable, delete, test and
redeliver; fan an event out to its deliveries; the delivery log for the company and for staff. Attempting a
delivery is shop.events.delivery's.

Endpoints and events each name a person (who registered the endpoint; whose order or notice it is), and both
belong to that person's company: every endpoint of a company receives the company's events, and every member
sees the company's endpoints; managing them (register, change, rotate, delete, test, redeliver) takes a company
admin, or an API key made with the admin role: each of those services takes who acts and refuses itself
(`check_may_manage`).

An endpoint receives events only while the member who registered it (or who last re-enabled it or gave it a new
URL: its maker) is an active company admin: the company trusted that person with where its orders go, not
whoever holds the URL later. Removing them, or taking the admin role from them, disables their endpoints and
tells the company's admins (`maker_lost_rights`, through `disable`, as every disable goes); a delivery created
before that is refused when a worker takes it (`refusal`)."""
from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import func, insert, literal, or_, select, update
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import Company, Customer, MemberRole
from shop.events import emails, netguard
from shop.events.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.events.types import EVENT_TYPES
from shop.platform import mail, outbox
from shop.platform.database import UTCDateTime, utcnow
from shop.platform.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.names import checked_name
from shop.platform.outbox import OutboxEvent
from shop.platform.queue import hand_over
from shop.platform.sql import like_pattern

MAX_ENDPOINTS = 20
SECRET_OVERLAP = timedelta(hours=24)  # after a rotation, the old secret signs too for this long
MANAGER = MemberRole.ADMIN  # who may register, change, delete, test and redeliver; every member and key may read
MANAGING_ROLES = tuple(role for role in MemberRole if role.may(MANAGER))


class Actor(Protocol):
    """Who acts: a signed-in member, or an API key (its maker's id, with the key's own role)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> MemberRole: ...

    @property
    def actor_name(self) -> str: ...  # a person's e-mail, or the key's name


# --- Endpoints ------------------------------------------------------------------------------------

def may_manage(role: MemberRole) -> bool:
    """Whether a member or key with `role` may change the company's endpoints: where its events go is the
    company's decision, so a buyer's ERP key cannot silence them."""
    return role.may(MANAGER)


def check_may_manage(role: MemberRole) -> None:
    """Raise Forbidden unless `role` may manage the company's endpoints (`may_manage`)."""
    if not may_manage(role):
        raise Forbidden(f"Managing webhook endpoints needs a company admin, or an API key made with the admin "
                        f"role; this acts as {role.value}. Buyers and approvers may read the endpoints and "
                        "their deliveries.")


def create_endpoint(actor: Actor, url: object, events: object, description: object = None) -> WebhookEndpoint:
    """Register an endpoint of the actor's company, made by the actor (the key's maker), with a new secret
    (whsec_...); Forbidden unless the actor may manage endpoints, InvalidInput names every refused field."""
    check_may_manage(actor.role)
    errors: dict[str, list[str]] = {}
    _check_url(url, errors)
    types = _event_types(events, errors)
    description = checked_name(description, "description", 200, errors)
    count = len(list_endpoints(actor.id))
    if count >= MAX_ENDPOINTS:
        errors["url"] = errors.get("url", []) + [f"At most {MAX_ENDPOINTS} endpoints; delete one first."]
    if errors:
        raise InvalidInput(errors)
    endpoint = WebhookEndpoint(customer_id=actor.id, url=url, events=" ".join(types),
                               description=description, secret=_new_secret())
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def update_endpoint(actor: Actor, endpoint_id: int, changes: dict[str, object]) -> WebhookEndpoint:
    """Change what `changes` names of an endpoint of the actor's company: `url` and `events` checked as
    registering checks them, `description`, and `enabled`. Re-enabling clears why it was disabled and how long it
    had failed; the deliveries that failed while it was disabled are not sent again (the events feed has their
    events). Whoever re-enables it or gives it a new URL becomes its maker: the company trusts them with where its
    events go now. Disabling it is `disable` with "disabled by <who>". Forbidden unless the actor may manage
    endpoints, NotFound for another company's, InvalidInput names every refused field and changes nothing."""
    endpoint = _managed_endpoint(actor, endpoint_id)
    errors: dict[str, list[str]] = {}
    if "url" in changes:
        _check_url(changes["url"], errors)
    types = _event_types(changes["events"], errors) if "events" in changes else None
    description = checked_name(changes["description"], "description", 200, errors) \
        if "description" in changes else None
    enabled = changes.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        errors["enabled"] = ["true or false."]
    if errors:
        raise InvalidInput(errors)
    new_url = "url" in changes and changes["url"] != endpoint.url
    if new_url:
        endpoint.url = changes["url"]  # type: ignore[assignment]
    if types is not None:
        endpoint.events = " ".join(types)
    if description is not None:
        endpoint.description = description
    re_enabled = enabled is True and not endpoint.enabled
    if new_url or re_enabled:
        endpoint.customer = db.session.get(Customer, actor.id)
    if re_enabled:
        endpoint.enabled, endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason = \
            True, None, None, None
    elif enabled is False:
        disable(endpoint, f"disabled by {actor.actor_name}")
    db.session.flush()
    return endpoint


def rotate_secret(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """Give an endpoint of the actor's company a new secret; the one it replaces keeps signing too, for
    SECRET_OVERLAP, so that every delivery meanwhile carries both signatures and the receiver switches over at
    its own pace. A second rotation within the overlap drops the oldest secret at once."""
    endpoint = _managed_endpoint(actor, endpoint_id)
    db.session.refresh(endpoint, with_for_update=True)
    endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, utcnow() + SECRET_OVERLAP
    endpoint.secret = _new_secret()
    db.session.flush()
    return endpoint


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_url(url: object, errors: dict[str, list[str]]) -> None:
    """Refuse (into `errors`) a URL that is not https or whose host resolves to a non-public address."""
    try:
        netguard.check_url(url, current_app.config["WEBHOOK_ALLOW_INSECURE"])  # type: ignore[arg-type]
    except netguard.RefusedURL as exc:
        errors["url"] = [str(exc)]


def _event_types(events: object, errors: dict[str, list[str]]) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        errors["events"] = ['A list of event types, or ["*"] for every event.']
        return []
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if unknown:
        errors["events"] = [f"Unknown event type {e!r}." for e in unknown]
    elif "*" in events and len(set(events)) > 1:  # not read as either: which one was meant is a guess
        errors["events"] = ['"*" (every event) already holds the others: give it alone, or the event types one '
                            'by one.']
    return ["*"] if "*" in events else list(dict.fromkeys(events))


def colleagues(customer_id: int):
    """The ids of every member of the customer's company (a subquery)."""
    company = select(Customer.company_id).where(Customer.id == customer_id).scalar_subquery()
    return select(Customer.id).where(Customer.company_id == company)


def _same_company(customer_id: int, other_id: int | None) -> bool:
    return other_id is not None and db.session.scalar(
        select(func.count()).select_from(Customer).where(Customer.id == other_id,
                                                         Customer.id.in_(colleagues(customer_id)))) == 1


def list_endpoints(customer_id: int) -> list[WebhookEndpoint]:
    """The endpoints of the customer's company."""
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.customer_id.in_(
        colleagues(customer_id))).order_by(WebhookEndpoint.id)))


def get_endpoint(endpoint_id: int, customer_id: int | None = None) -> WebhookEndpoint:
    """One endpoint; limited to the customer's company's when given (another company's is NotFound)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (customer_id is not None and not _same_company(customer_id, endpoint.customer_id)):
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def _managed_endpoint(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """One of the actor's company's endpoints, for a change: Forbidden unless the actor may manage them."""
    check_may_manage(actor.role)
    return get_endpoint(endpoint_id, actor.id)


def delete_endpoint(actor: Actor, endpoint_id: int) -> None:
    """Delete an endpoint of the actor's company with its deliveries and their log."""
    db.session.delete(_managed_endpoint(actor, endpoint_id))
    db.session.flush()


def attempts(endpoint_id: int, limit: int,
             before_id: int | None = None) -> list[tuple[WebhookAttempt, OutboxEvent, WebhookDelivery]]:
    """The endpoint's delivery log, newest first, keyset-paginated on the attempt's id: each attempt with its
    event and its delivery as it is now (its state, attempts and next attempt)."""
    stmt = (select(WebhookAttempt, OutboxEvent, WebhookDelivery)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(WebhookAttempt.endpoint_id == endpoint_id)
            .order_by(WebhookAttempt.id.desc()).limit(limit))
    if before_id is not None:
        stmt = stmt.where(WebhookAttempt.id < before_id)
    return [(row[0], row[1], row[2]) for row in db.session.execute(stmt)]


def send_test(actor: Actor, endpoint_id: int) -> str:
    """Queue a `ping` event for this endpoint of the actor's company only; its event id."""
    endpoint = _managed_endpoint(actor, endpoint_id)
    _require_sendable(endpoint)
    row_id, event_id = outbox.record("ping", ping(endpoint.id), customer_id=endpoint.customer_id,
                                     subject=f"endpoint {endpoint.id}", handed_over=True)
    schedule([_new_delivery(endpoint.id, row_id)])
    return event_id


def redeliver(actor: Actor, endpoint_id: int, event_id: object) -> None:
    """Deliver an event of the actor's company to its endpoint again, on a fresh retry schedule."""
    _redeliver(_managed_endpoint(actor, endpoint_id), event_id)


def _redeliver(endpoint: WebhookEndpoint, event_id: object) -> None:
    _require_sendable(endpoint)
    outbox_event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id)) \
        if isinstance(event_id, str) else None
    if outbox_event is None or not _same_company(endpoint.customer_id, outbox_event.customer_id):
        raise InvalidInput({"event_id": [f"No event {event_id!r} of yours."]})
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                               WebhookDelivery.event_id == outbox_event.id))
    if delivery is None:
        delivery = _new_delivery(endpoint.id, outbox_event.id)
    else:
        delivery.state, delivery.attempts, delivery.claimed_until = DeliveryState.PENDING, 0, None
        delivery.next_attempt_at = utcnow()
    db.session.flush()
    schedule([delivery])


# --- Fan-out and delivery -------------------------------------------------------------------------

def create_deliveries(outbox_event: OutboxEvent) -> None:
    """One delivery per enabled endpoint of the event's company that wants its type and whose maker is still an
    active company admin (in the caller's transaction); each is handed to a worker after COMMIT."""
    if outbox_event.customer_id is None:
        return
    endpoints = db.session.scalars(select(WebhookEndpoint).join(WebhookEndpoint.customer).where(
        WebhookEndpoint.customer_id.in_(colleagues(outbox_event.customer_id)),
        WebhookEndpoint.enabled.is_(True), Customer.active.is_(True), Customer.role.in_(MANAGING_ROLES))).all()
    schedule([_new_delivery(e.id, outbox_event.id) for e in endpoints if e.wants(outbox_event.type)])


def refusal(endpoint: WebhookEndpoint) -> str | None:
    """Why nothing may be sent to the endpoint now (a sentence for its delivery log), or None."""
    if not endpoint.enabled:
        return endpoint.disabled_reason or "The endpoint is disabled."
    return _maker_gone(endpoint.customer)


def _require_sendable(endpoint: WebhookEndpoint) -> None:
    """IllegalTransition (409) for a test or a redelivery to an endpoint that would send nothing (`refusal`), rather
    than queueing an attempt that is logged as not sent."""
    refused = refusal(endpoint)
    if refused is not None:
        enable = " Enable it first." if not endpoint.enabled else ""
        raise IllegalTransition(f"Endpoint {endpoint.id} sends nothing now: {refused.rstrip('.')}.{enable}")


def _maker_gone(maker: Customer) -> str | None:
    """Why the member who registered an endpoint no longer vouches for it, or None while they may manage it."""
    if not maker.active:
        return f"Registered by {maker.email}, who is no longer a member of the company."
    if not may_manage(maker.role):
        return f"Registered by {maker.email}, who is no longer a company admin."
    return None


def maker_lost_rights(member: Customer, **_: object) -> None:
    """Once `member` may no longer manage endpoints (removed, or no longer an admin), disable the endpoints they
    registered and tell the company's admins, in the caller's transaction (connected to
    shop.accounts.companies.member_changed)."""
    reason = _maker_gone(member)
    if reason is None:
        return
    disable(db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.customer_id == member.id, WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookEndpoint.id).with_for_update()).all(), reason)


def disable(endpoints: WebhookEndpoint | Sequence[WebhookEndpoint], reason: str) -> None:
    """Disable the endpoints (of one company) for `reason`, a sentence their page, the API and their delivery log
    show; their pending deliveries fail without another attempt, and the company's admins are e-mailed, in the
    caller's transaction (the outbox). Every disable goes through here: failing for days, a 410 Gone, the maker no
    longer an admin, an admin's choice. Endpoints disabled already are left as they are."""
    endpoints = [e for e in ([endpoints] if isinstance(endpoints, WebhookEndpoint) else endpoints) if e.enabled]
    if not endpoints:
        return
    now = utcnow()
    for endpoint in endpoints:
        endpoint.enabled, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:500]
    # Deliveries due (none in a worker's hands) fail now, each logged as not sent, rather than wait for their time.
    waiting = (WebhookDelivery.endpoint_id.in_([e.id for e in endpoints]),
               WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.claimed_until.is_(None))
    db.session.execute(insert(WebhookAttempt).from_select(
        ["delivery_id", "endpoint_id", "attempted_at", "duration_ms", "error", "response_excerpt"],
        select(WebhookDelivery.id, WebhookDelivery.endpoint_id, literal(now, UTCDateTime()), literal(0),
               literal(f"Not sent: {reason}"[:500]), literal("")).where(*waiting).order_by(WebhookDelivery.id)))
    db.session.execute(update(WebhookDelivery).where(*waiting).values(state=DeliveryState.FAILED)
                       .execution_options(synchronize_session=False))
    company = endpoints[0].customer.company
    admins = emails.addresses(company.id, (MANAGER,))
    if admins:
        several = len(endpoints) != 1
        mail.send(admins, f"Webhook endpoint{'s' if several else ''} of your company {'were' if several else 'was'} "
                  "disabled", "webhook_disabled", endpoints=endpoints, reason=reason, company=company)
    db.session.flush()


def _new_delivery(endpoint_id: int, event_row_id: int) -> WebhookDelivery:
    delivery = WebhookDelivery(endpoint_id=endpoint_id, event_id=event_row_id, state=DeliveryState.PENDING,
                               attempts=0, next_attempt_at=utcnow())
    db.session.add(delivery)
    return delivery


def schedule(deliveries: list[WebhookDelivery], delay: float = 0) -> None:
    """Hand the deliveries to a worker after COMMIT, to be attempted in `delay` seconds."""
    db.session.flush()
    ids = [d.id for d in deliveries]
    if ids:
        outbox.after_commit(lambda: hand_over("deliver_webhook", [(delivery_id,) for delivery_id in ids], delay=delay))


# --- The staff view -------------------------------------------------------------------------------

STAFF_PAGE = 50


def event_page(customer: str = "", event_type: str = "", outcome: str = "", before_id: int | None = None,
               limit: int = STAFF_PAGE) -> list[OutboxEvent]:
    """Events newest first with their deliveries (and endpoints, customers), filtered by the customer's email
    or company (a part of it), the event type, and the outcome of a delivery ('none': no endpoint wanted
    it); keyset-paginated on the event's id. Four statements whatever the page's length (events with their
    customers and companies, deliveries with their endpoints, the deliveries' attempts, and the e-mails)."""
    stmt = (select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(limit)
            .options(joinedload(OutboxEvent.customer).joinedload(Customer.company),
                     selectinload(OutboxEvent.deliveries).joinedload(WebhookDelivery.endpoint),
                     selectinload(OutboxEvent.deliveries).selectinload(WebhookDelivery.log),
                     selectinload(OutboxEvent.mails)))
    if customer:
        pattern = like_pattern(customer.lower())
        stmt = stmt.where(OutboxEvent.customer_id.in_(select(Customer.id).join(Customer.company).where(or_(
            func.lower(Customer.email).like(pattern, escape="\\"),
            func.lower(Company.name).like(pattern, escape="\\")))))
    if event_type:
        stmt = stmt.where(OutboxEvent.type == event_type)
    if outcome == "none":
        stmt = stmt.where(~OutboxEvent.deliveries.any())
    elif outcome:
        stmt = stmt.where(OutboxEvent.deliveries.any(WebhookDelivery.state == DeliveryState(outcome)))
    if before_id is not None:
        stmt = stmt.where(OutboxEvent.id < before_id)
    return list(db.session.scalars(stmt).unique())


def redeliver_delivery(delivery_id: int) -> WebhookDelivery:
    """Staff: deliver one delivery's event to its endpoint again."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id}.")
    _redeliver(delivery.endpoint, delivery.event.event_id)
    return delivery


def ping(endpoint_id: int) -> dict[str, Any]:
    return {"endpoint_id": endpoint_id, "message": "A test event from the Leucine Shop: your endpoint answers."}
