"""Webhook endpoints and deliveries: register, fan out, POST signed (Standard Webhooks), retry, log, redeliver.

A delivery is attempted by whichever worker claims it first (`claimed_until`, a lease longer than the
timeout): two workers given the same delivery POST it once, and a worker that dies mid-POST lets its
lease run out, after which `sweep_due` hands the delivery over again. Every attempt of a delivery carries
the event's id as `webhook-id`, so a receiver drops the duplicates that at-least-once delivery can bring.
The HTTP request runs outside any database transaction: a slow receiver holds no lock.
"""
from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import urllib3
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload
from standardwebhooks import Webhook

from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import DeliveryState, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow
from ..services.tx import run_in_transaction
from . import netguard, outbox, payloads
from .hooks import EVENT_TYPES
from .queue import hand_over

log = logging.getLogger(__name__)
EXCERPT_BYTES = 1000
MAX_ENDPOINTS = 20
USER_AGENT = "LeucineShop-Webhooks/1"


# --- Endpoints ------------------------------------------------------------------------------------

def create_endpoint(customer_id: int, url: object, events: object, description: object = None) -> WebhookEndpoint:
    """Register an endpoint with a new secret (whsec_...); InvalidInput names every refused field."""
    errors: dict[str, list[str]] = {}
    try:
        netguard.check_url(url, current_app.config["WEBHOOK_ALLOW_INSECURE"])  # type: ignore[arg-type]
    except netguard.RefusedURL as exc:
        errors["url"] = [str(exc)]
    types = _event_types(events, errors)
    description = (description or "") if isinstance(description, str | None) else None
    if description is None or len(description) > 200:
        errors["description"] = ["Text of at most 200 characters."]
    count = len(list_endpoints(customer_id))
    if count >= MAX_ENDPOINTS:
        errors["url"] = errors.get("url", []) + [f"At most {MAX_ENDPOINTS} endpoints; delete one first."]
    if errors:
        raise InvalidInput(errors)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    endpoint = WebhookEndpoint(customer_id=customer_id, url=url, events=" ".join(types),
                               description=description.strip(), secret=secret)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def _event_types(events: object, errors: dict[str, list[str]]) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        errors["events"] = ['A list of event types, or ["*"] for every event.']
        return []
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if unknown:
        errors["events"] = [f"Unknown event type {e!r}." for e in unknown]
    return ["*"] if "*" in events else list(dict.fromkeys(events))


def list_endpoints(customer_id: int) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.customer_id == customer_id)
                                   .order_by(WebhookEndpoint.id)))


def get_endpoint(endpoint_id: int, customer_id: int | None = None) -> WebhookEndpoint:
    """One endpoint; limited to a customer's own when given (another's is NotFound)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (customer_id is not None and endpoint.customer_id != customer_id):
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def delete_endpoint(endpoint_id: int, customer_id: int) -> None:
    """Delete an endpoint with its deliveries and their log."""
    db.session.delete(get_endpoint(endpoint_id, customer_id))
    db.session.flush()


def attempts(endpoint_id: int, limit: int, before_id: int | None = None) -> list[tuple[WebhookAttempt, OutboxEvent]]:
    """The endpoint's delivery log, newest first, keyset-paginated on the attempt's id."""
    stmt = (select(WebhookAttempt, OutboxEvent)
            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
            .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
            .where(WebhookAttempt.endpoint_id == endpoint_id)
            .order_by(WebhookAttempt.id.desc()).limit(limit))
    if before_id is not None:
        stmt = stmt.where(WebhookAttempt.id < before_id)
    return [(row[0], row[1]) for row in db.session.execute(stmt)]


def send_test(endpoint: WebhookEndpoint) -> str:
    """Queue a `ping` event for this endpoint only; its event id."""
    row_id, event_id = outbox.record("ping", payloads.ping(endpoint.id), customer_id=endpoint.customer_id,
                                     subject=f"endpoint {endpoint.id}", handed_over=True)
    _schedule([_new_delivery(endpoint.id, row_id)])
    return event_id


def redeliver(endpoint: WebhookEndpoint, event_id: object) -> None:
    """Deliver an event of the endpoint's customer to it again, on a fresh retry schedule."""
    outbox_event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id)) \
        if isinstance(event_id, str) else None
    if outbox_event is None or outbox_event.customer_id != endpoint.customer_id:
        raise InvalidInput({"event_id": [f"No event {event_id!r} of yours."]})
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id,
                                                               WebhookDelivery.event_id == outbox_event.id))
    if delivery is None:
        delivery = _new_delivery(endpoint.id, outbox_event.id)
    else:
        delivery.state, delivery.attempts, delivery.claimed_until = DeliveryState.PENDING, 0, None
        delivery.next_attempt_at = utcnow()
    db.session.flush()
    _schedule([delivery])


# --- Fan-out and delivery -------------------------------------------------------------------------

def create_deliveries(outbox_event: OutboxEvent) -> None:
    """One delivery per enabled endpoint of the event's customer that wants its type (in the caller's
    transaction); each is handed to a worker after COMMIT."""
    if outbox_event.customer_id is None:
        return
    endpoints = db.session.scalars(select(WebhookEndpoint).where(
        WebhookEndpoint.customer_id == outbox_event.customer_id, WebhookEndpoint.enabled.is_(True))).all()
    _schedule([_new_delivery(e.id, outbox_event.id) for e in endpoints if e.wants(outbox_event.type)])


def _new_delivery(endpoint_id: int, event_row_id: int) -> WebhookDelivery:
    delivery = WebhookDelivery(endpoint_id=endpoint_id, event_id=event_row_id, state=DeliveryState.PENDING,
                               attempts=0, next_attempt_at=utcnow())
    db.session.add(delivery)
    return delivery


def _schedule(deliveries: list[WebhookDelivery], delay: float = 0) -> None:
    db.session.flush()
    ids = [d.id for d in deliveries]
    if ids:
        outbox.after_commit(lambda: _enqueue(ids, delay))


def _enqueue(ids: list[int], delay: float) -> None:
    if delay > 0:
        from .queue import task_queue

        for delivery_id in ids:
            task_queue().enqueue("deliver_webhook", delivery_id, delay=delay)
    else:
        hand_over("deliver_webhook", [(delivery_id,) for delivery_id in ids])


@dataclass(frozen=True)
class _Claimed:
    url: str
    secret: str
    event_id: str
    body: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    duration_ms: int
    error: str = ""
    excerpt: str = ""

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def attempt_delivery(delivery_id: int) -> Outcome | None:
    """Claim the delivery, POST it, log the attempt and schedule the next one (a worker's task). None when
    there was nothing to do: delivered already, not due yet, or another worker holds it."""
    claimed = run_in_transaction(_claim, delivery_id)
    if claimed is None:
        return None
    outcome = post(claimed)
    run_in_transaction(_record_outcome, delivery_id, outcome)
    return outcome


def _lease() -> timedelta:
    config = current_app.config
    return timedelta(seconds=config["WEBHOOK_TIMEOUT_SECONDS"] + config["WEBHOOK_LEASE_MARGIN_SECONDS"])


def _claim(delivery_id: int) -> _Claimed | None:
    now = utcnow()
    taken = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == DeliveryState.PENDING,
               WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1),
               or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))
        .values(claimed_until=now + _lease())
    ).rowcount
    if not taken:
        return None
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                 .options(joinedload(WebhookDelivery.endpoint), joinedload(WebhookDelivery.event)))
    if not delivery.endpoint.enabled:
        delivery.state, delivery.claimed_until = DeliveryState.FAILED, None
        return None
    event = delivery.event
    body = json.dumps({"id": event.event_id, "type": event.type, "created_at": event.created_at.isoformat(),
                       "data": json.loads(event.data)}, separators=(",", ":"))
    return _Claimed(delivery.endpoint.url, delivery.endpoint.secret, event.event_id, body)


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with the endpoint's secret."""
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body),
            "Content-Type": "application/json", "User-Agent": USER_AGENT}


def post(claimed: _Claimed) -> Outcome:
    """POST the signed body to the address that the endpoint's host resolves to now, once it is checked."""
    config = current_app.config
    started = time.monotonic()
    parts = urlsplit(claimed.url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        netguard.check_shape(claimed.url, config["WEBHOOK_ALLOW_INSECURE"])
        address = str(netguard.public_addresses(parts.hostname, port, config["WEBHOOK_ALLOW_INSECURE"])[0])
    except netguard.RefusedURL as exc:
        return Outcome(None, _ms(started), f"Not sent: {exc}")
    headers = {**signed_headers(claimed.secret, claimed.event_id, claimed.body, utcnow()), "Host": parts.netloc}
    options = {"server_hostname": parts.hostname, "assert_hostname": parts.hostname} if https else {}
    pool_class = urllib3.HTTPSConnectionPool if https else urllib3.HTTPConnectionPool
    timeout = urllib3.Timeout(total=config["WEBHOOK_TIMEOUT_SECONDS"])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        with pool_class(address, port, timeout=timeout, retries=False, maxsize=1, **options) as pool:
            response = pool.urlopen("POST", path, body=claimed.body.encode(), headers=headers, redirect=False,
                                    assert_same_host=False, preload_content=False)
            excerpt = response.read(EXCERPT_BYTES, decode_content=False).decode("utf-8", "replace")
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(None, _ms(started), _describe(exc))
    return Outcome(response.status, _ms(started), "" if 200 <= response.status < 300 else
                   f"HTTP {response.status}", excerpt)


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "No answer within the timeout."
    reason = getattr(exc, "reason", None) or exc
    return f"{type(exc).__name__}: {reason}"[:500]


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record_outcome(delivery_id: int, outcome: Outcome) -> None:
    """Log the attempt; on success mark the delivery done, else schedule the next attempt or give up."""
    now = utcnow()
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                 .options(joinedload(WebhookDelivery.endpoint)).with_for_update(of=WebhookDelivery))
    if delivery is None:  # the endpoint was deleted meanwhile
        return
    endpoint = delivery.endpoint
    db.session.add(WebhookAttempt(delivery_id=delivery.id, endpoint_id=endpoint.id, attempted_at=now,
                                  status_code=outcome.status_code, duration_ms=outcome.duration_ms,
                                  error=outcome.error[:500], response_excerpt=outcome.excerpt[:EXCERPT_BYTES]))
    delivery.attempts += 1
    delivery.claimed_until = None
    if outcome.delivered:
        delivery.state = DeliveryState.DELIVERED
        endpoint.failing_since = None
        return
    delay = retry_delay(delivery.attempts, current_app.config["WEBHOOK_RETRY_SCHEDULE"])
    if delay is None:
        delivery.state = DeliveryState.FAILED
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        _schedule([delivery], delay)
    _note_failure(endpoint, now)


def retry_delay(failed_attempts: int, schedule: list[float]) -> float | None:
    """Seconds until the next attempt after `failed_attempts` failures in a row, or None: give up. The first
    attempt and one retry per delay of the schedule."""
    return schedule[failed_attempts - 1] if 1 <= failed_attempts <= len(schedule) else None


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Disable an endpoint that has failed for WEBHOOK_DISABLE_AFTER_HOURS, and tell its owner."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        return
    if endpoint.enabled and now - endpoint.failing_since >= timedelta(
            hours=current_app.config["WEBHOOK_DISABLE_AFTER_HOURS"]):
        endpoint.enabled, endpoint.disabled_at = False, now
        from .. import mail

        mail.send(endpoint.customer.email, "Your webhook endpoint was disabled", "webhook_disabled",
                  endpoint=endpoint, hours=current_app.config["WEBHOOK_DISABLE_AFTER_HOURS"])


def sweep_due() -> int:
    """Hand over deliveries that are due and held by no worker: retries whose scheduled task was lost, and
    deliveries whose worker died mid-attempt (its lease ran out). A periodic job."""
    now = utcnow()
    due = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= now,
               or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now))
        .order_by(WebhookDelivery.next_attempt_at).limit(500)
    ).all()
    db.session.rollback()
    hand_over("deliver_webhook", [(delivery_id,) for delivery_id in due])
    return len(due)


# --- The staff view -------------------------------------------------------------------------------

OUTCOMES = ("delivered", "pending", "failed", "none")
STAFF_PAGE = 50


def event_page(customer: str = "", event_type: str = "", outcome: str = "", before_id: int | None = None,
               limit: int = STAFF_PAGE) -> list[OutboxEvent]:
    """Events newest first with their deliveries (and endpoints, customers), filtered by the customer's email
    or company (a part of it), the event type, and the outcome of a delivery ('none': no endpoint wanted
    it); keyset-paginated on the event's id. Three statements whatever the page's length (events with their
    customers, deliveries with their endpoints, and the deliveries' attempts)."""
    from sqlalchemy.orm import selectinload

    from ..models import Customer

    stmt = (select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(limit)
            .options(joinedload(OutboxEvent.customer),
                     selectinload(OutboxEvent.deliveries).joinedload(WebhookDelivery.endpoint),
                     selectinload(OutboxEvent.deliveries).selectinload(WebhookDelivery.log)))
    if customer:
        pattern = f"%{customer.lower()}%"
        stmt = stmt.where(OutboxEvent.customer_id.in_(select(Customer.id).where(or_(
            func.lower(Customer.email).like(pattern), func.lower(Customer.company).like(pattern)))))
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
    redeliver(delivery.endpoint, delivery.event.event_id)
    return delivery
