"""Fan an outbox event out to its channels (webhook deliveries, e-mail), each once and on its own; sweep up what
was not handed over, and give up on an event whose fan-out keeps failing."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from shop.events import emails, webhooks
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.outbox import WAITING_FOR_FAN_OUT, OutboxEvent
from shop.platform.queue import hand_over
from shop.platform.retry import describe
from shop.platform.tx import run_in_transaction

log = logging.getLogger(__name__)
SWEEP_BATCH = 500


def dispatch(event_id: str) -> None:
    """Fan the event out to its webhook deliveries and to its e-mails, in a transaction each (a worker's task): a
    channel that fails rolls back alone, is counted on the event, and is tried again by the sweep."""
    errors = [error for marker, fan_out in (("webhooks_fanned_out_at", webhooks.create_deliveries),
                                            ("mail_fanned_out_at", emails.send_for))
              if (error := _fan_out_channel(event_id, marker, fan_out)) is not None]
    if errors:
        run_in_transaction(_count_failure, event_id, errors[-1])


def _fan_out_channel(event_id: str, marker: str, fan_out: Callable[[OutboxEvent], None]) -> str | None:
    """Run one channel's fan-out in its own transaction; None, or why it failed."""
    try:
        run_in_transaction(_fan_out, event_id, marker, fan_out)
    except Exception as exc:  # noqa: BLE001 - one channel's failure must not stop the other's
        error = describe(exc)
        log.warning("fan-out of event %s (%s) failed: %s; the sweep tries again", event_id, marker, error)
        return error
    return None


def _fan_out(event_id: str, marker: str, fan_out: Callable[[OutboxEvent], None]) -> None:
    column = getattr(OutboxEvent, marker)
    claimed = db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.event_id == event_id, column.is_(None), OutboxEvent.failed_at.is_(None))
        .values({marker: utcnow()})
    ).rowcount
    if not claimed:  # fanned out already (another worker, or the sweep's copy), given up on, or rolled back
        return
    fan_out(db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id)))


def _count_failure(event_id: str, error: str) -> None:
    """One more failed fan-out of the event; the last one allowed gives the event up (staff see it failed)."""
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id).with_for_update())
    event.fan_out_failures += 1
    event.last_error = error
    if event.fan_out_failures >= current_app.config["OUTBOX_FAN_OUT_ATTEMPTS"]:
        event.failed_at = utcnow()
        log.warning("gave up on the fan-out of event %s after %d attempts", event_id, event.fan_out_failures)


def sweep() -> int:
    """Hand over again every event that committed a while ago and is still waiting for a channel's fan-out, and
    not given up on (a periodic job)."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["OUTBOX_SWEEP_AFTER_SECONDS"])
    waiting = db.session.scalars(
        select(OutboxEvent.event_id)
        .where(WAITING_FOR_FAN_OUT, OutboxEvent.created_at <= cutoff)
        .order_by(OutboxEvent.created_at).limit(SWEEP_BATCH)
    ).all()
    db.session.rollback()
    hand_over("dispatch_event", [(event_id,) for event_id in waiting], sweeping=True)
    return len(waiting)
