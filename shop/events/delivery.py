"""Attempting a webhook delivery: claim it, POST it signed (Standard Webhooks), log it, retry or give up.

A delivery is attempted by whichever worker claims it first (`claimed_until`, a lease longer than the
timeout): two workers given the same delivery POST it once, and a worker that dies mid-POST lets its
lease run out, after which `sweep_due` hands the delivery over again. At most WEBHOOK_IN_FLIGHT_PER_ENDPOINT
deliveries to one endpoint are claimed at once (claims of one endpoint take turns on its row), so that a receiver
slow to answer holds that many of the workers' delivery threads and no more; a delivery refused for it waits, and
each attempt that ends hands over its endpoint's next waiting delivery (the sweep catches up with any left).
Every attempt of a delivery carries the event's id as `webhook-id`, so a receiver drops the duplicates that
at-least-once delivery can bring. The HTTP request runs outside any database transaction: a slow receiver holds
no lock.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

import urllib3
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased, joinedload
from standardwebhooks import Webhook

from shop.events import feed, netguard
from shop.events.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.events.webhooks import disable, refusal, schedule
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.queue import hand_over
from shop.platform.retry import jittered_delay
from shop.platform.tx import run_in_transaction

EXCERPT_BYTES = 1000
USER_AGENT = "LeucineShop-Webhooks/1"
GONE = 410  # Standard Webhooks: a 410 Gone asks the sender to stop; the endpoint is disabled at once
GONE_REASON = "the endpoint answered 410 Gone"


@dataclass(frozen=True)
class Claimed:
    """What a worker that claimed a delivery needs to POST it."""

    endpoint_id: int
    url: str
    secrets: tuple[str, ...]  # each signs: the current secret, and during a rotation's overlap the one before
    event_id: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: when it started, the status (None when nothing answered), how long it took, and why
    it failed."""

    started_at: datetime
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
    hand_over("deliver_webhook", [(waiting,) for waiting in run_in_transaction(_next_waiting, claimed.endpoint_id)])
    return outcome


def _lease() -> timedelta:
    config = current_app.config
    return timedelta(seconds=config["WEBHOOK_TIMEOUT_SECONDS"] + config["WEBHOOK_LEASE_MARGIN_SECONDS"])


def _claim(delivery_id: int) -> Claimed | None:
    now = utcnow()
    # Claims of one endpoint take turns on its row (PostgreSQL; SQLite runs one write at a time anyway), so that the
    # count below sees every claim made before this one.
    db.session.execute(select(WebhookEndpoint.id).join(WebhookDelivery)
                       .where(WebhookDelivery.id == delivery_id).with_for_update(of=WebhookEndpoint))
    other = aliased(WebhookDelivery)
    in_flight = (select(func.count()).select_from(other)
                 .where(other.endpoint_id == WebhookDelivery.endpoint_id, other.id != WebhookDelivery.id,
                        other.claimed_until.is_not(None), other.claimed_until >= now)
                 .scalar_subquery())
    taken = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == DeliveryState.PENDING,
               WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1),
               _free(now),
               in_flight < current_app.config["WEBHOOK_IN_FLIGHT_PER_ENDPOINT"])
        .values(claimed_until=now + _lease())
    ).rowcount
    if not taken:
        return None
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                 .options(joinedload(WebhookDelivery.endpoint).joinedload(WebhookEndpoint.customer),
                                          joinedload(WebhookDelivery.event)))
    refused = refusal(delivery.endpoint)
    if refused is not None:  # disabled, or its maker left, since the delivery was made: logged, never sent
        delivery.state, delivery.claimed_until = DeliveryState.FAILED, None
        db.session.add(WebhookAttempt(delivery_id=delivery.id, endpoint_id=delivery.endpoint_id, attempted_at=now,
                                      duration_ms=0, error=f"Not sent: {refused}"[:500]))
        return None
    event = delivery.event
    body = json.dumps(feed.body(event), separators=(",", ":"))  # exactly what GET /api/v1/events lists
    return Claimed(delivery.endpoint_id, delivery.endpoint.url, delivery.endpoint.signing_secrets(now), event.event_id,
                   body)


def signed_headers(secrets: tuple[str, ...], message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with each of the endpoint's secrets (`v1,<signature>`
    entries separated by spaces, as the specification allows several)."""
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets),
            "Content-Type": "application/json", "User-Agent": USER_AGENT}


def post(claimed: Claimed) -> Outcome:
    """POST the signed body to the address that the endpoint's host resolves to now, once it is checked."""
    started, started_at = time.monotonic(), utcnow()
    allow_insecure = current_app.config["WEBHOOK_ALLOW_INSECURE"]
    parts = urlsplit(claimed.url)
    try:
        netguard.check_shape(claimed.url, allow_insecure)
        address = netguard.public_addresses(parts.hostname, _port(parts), allow_insecure)[0]
    except netguard.RefusedURL as exc:
        return Outcome(started_at, None, _ms(started), f"Not sent: {exc}")
    try:
        status, excerpt = _send(claimed, str(address))
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(started_at, None, _ms(started), _describe(exc))
    return Outcome(started_at, status, _ms(started), "" if 200 <= status < 300 else f"HTTP {status}", excerpt)


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def _send(claimed: Claimed, address: str) -> tuple[int, str]:
    """One POST to `address` (the checked one) naming the endpoint's host (Host, and SNI and the certificate
    check over https); no redirect followed, no retry: the answer's status and its first bytes."""
    parts = urlsplit(claimed.url)
    headers = {**signed_headers(claimed.secrets, claimed.event_id, claimed.body, utcnow()), "Host": parts.netloc}
    https = parts.scheme == "https"
    pool_class = urllib3.HTTPSConnectionPool if https else urllib3.HTTPConnectionPool
    options = {"server_hostname": parts.hostname, "assert_hostname": parts.hostname} if https else {}
    timeout = urllib3.Timeout(total=current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with pool_class(address, _port(parts), timeout=timeout, retries=False, maxsize=1, **options) as pool:
        response = pool.urlopen("POST", path, body=claimed.body.encode(), headers=headers, redirect=False,
                                assert_same_host=False, preload_content=False)
        excerpt = response.read(EXCERPT_BYTES, decode_content=False).decode("utf-8", "replace")
        response.release_conn()
    return response.status, excerpt


def _describe(exc: Exception) -> str:
    """Why nothing answered, for the delivery log."""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # before TimeoutError: urllib3 derives it from one
        return f"Could not connect: {str(exc).rpartition(': ')[2]}"[:500]
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
    db.session.add(WebhookAttempt(delivery_id=delivery.id, endpoint_id=endpoint.id, attempted_at=outcome.started_at,
                                  status_code=outcome.status_code, duration_ms=outcome.duration_ms,
                                  error=outcome.error[:500], response_excerpt=outcome.excerpt[:EXCERPT_BYTES]))
    delivery.attempts += 1
    if outcome.delivered:
        delivery.state, delivery.claimed_until = DeliveryState.DELIVERED, None
        endpoint.failing_since = None
        return
    # Still claimed while this failure may disable the endpoint: `disable` logs the endpoint's other pending
    # deliveries as not sent, and this one has its attempt logged above already.
    if outcome.status_code == GONE:  # the receiver says the endpoint is gone for good: no more retries
        disable(endpoint, GONE_REASON)
    else:
        _note_failure(endpoint, now)
    delivery.claimed_until = None
    if not endpoint.enabled:  # disabled by this failure, or while this attempt was in flight
        delivery.state = DeliveryState.FAILED
        return
    delay = jittered_delay(delivery.attempts, current_app.config["WEBHOOK_RETRY_SCHEDULE"], random.random())
    if delay is None:
        delivery.state = DeliveryState.FAILED
    else:
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        schedule([delivery], delay)


def _note_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Disable an endpoint that has failed for WEBHOOK_DISABLE_AFTER_HOURS, and tell its owner."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        return
    hours = current_app.config["WEBHOOK_DISABLE_AFTER_HOURS"]
    if endpoint.enabled and now - endpoint.failing_since >= timedelta(hours=hours):
        disable(endpoint, f"It failed every delivery for {hours} hour{'' if hours == 1 else 's'}.")


def _free(now: datetime):
    """Held by no worker: never claimed, or its worker's lease ran out."""
    return or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now)


def _due_and_free(now: datetime) -> tuple:
    """Pending, due, and held by no worker: what the sweep and an ending attempt hand over."""
    return WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= now, _free(now)


def _next_waiting(endpoint_id: int) -> list[int]:
    """The endpoint's delivery that has waited longest among those due and held by no worker (at most one)."""
    now = utcnow()
    return list(db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.endpoint_id == endpoint_id, *_due_and_free(now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(1)))


def sweep_due() -> int:
    """Hand over deliveries that are due and held by no worker: retries whose scheduled task was lost, and
    deliveries whose worker died mid-attempt (its lease ran out). A periodic job."""
    now = utcnow()
    due = db.session.scalars(
        select(WebhookDelivery.id)
        .where(*_due_and_free(now))
        .order_by(WebhookDelivery.next_attempt_at).limit(500)
    ).all()
    db.session.rollback()
    hand_over("deliver_webhook", [(delivery_id,) for delivery_id in due], sweeping=True)
    return len(due)
