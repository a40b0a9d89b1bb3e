"""Fan an outbox event out to its channels (webhook deliveries, e-mail), once; sweep up what was not handed over."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from shop.platform.queue import hand_over
from shop.platform.tx import run_in_transaction

SWEEP_BATCH = 500


def dispatch(event_id: str) -> None:
    """Fan the event out to its webhook deliveries and e-mails, once (a worker's task)."""
    run_in_transaction(_fan_out, event_id)


def _fan_out(event_id: str) -> None:
    claimed = db.session.execute(
        update(OutboxEvent).where(OutboxEvent.event_id == event_id, OutboxEvent.handed_over_at.is_(None))
        .values(handed_over_at=utcnow())
    ).rowcount
    if not claimed:  # fanned out already (another worker, or the sweep's copy), or rolled back
        return
    from shop.events import emails, webhooks

    outbox_event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_id == event_id))
    webhooks.create_deliveries(outbox_event)
    emails.send_for(outbox_event)


def sweep() -> int:
    """Hand over again every event that committed a while ago and is still waiting (a periodic job)."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["OUTBOX_SWEEP_AFTER_SECONDS"])
    waiting = db.session.scalars(
        select(OutboxEvent.event_id)
        .where(OutboxEvent.handed_over_at.is_(None), OutboxEvent.created_at <= cutoff)
        .order_by(OutboxEvent.created_at).limit(SWEEP_BATCH)
    ).all()
    db.session.rollback()
    hand_over("dispatch_event", [(event_id,) for event_id in waiting])
    return len(waiting)
