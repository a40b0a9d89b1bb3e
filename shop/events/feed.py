"""The company's events as a feed (GET /api/v1/events): what an integrator replays after an outage, each event
exactly as its webhook delivery POSTs it (`body`, which delivery uses too).

Events are listed by their row id, oldest first. Ids are drawn when a row is inserted, not when it commits, so a
transaction still running may commit an event with a lower id than one a reader has already seen; listing only
events older than a settle window (EVENTS_FEED_SETTLE_SECONDS) keeps such an event from landing behind the
reader's `after`, for every transaction that commits within half the window of its event's time (an event's time
is taken just before its row is written, and the transaction commits right after: milliseconds). On SQLite one
writer at a time holds the database from its first write to COMMIT, so ids are in commit order there anyway.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from shop.accounts.models import Customer
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent


def body(event: OutboxEvent) -> dict[str, Any]:
    """The event as its webhook delivery's body and the feed's item: `id` (the `webhook-id`), `type`,
    `created_at` and `data` (as it was at the time of the event)."""
    return {"id": event.event_id, "type": event.type, "created_at": event.created_at.isoformat(),
            "data": json.loads(event.data)}


def event_row_id(company_id: int, event_id: str) -> int | None:
    """The row id of one of the company's events, by its `id` (the `webhook-id`); None for any other."""
    return db.session.scalar(select(OutboxEvent.id).join(Customer, Customer.id == OutboxEvent.customer_id)
                             .where(OutboxEvent.event_id == event_id, Customer.company_id == company_id))


def list_events(company_id: int, types: Sequence[str], until: datetime, limit: int,
                after: int | None = None) -> list[OutboxEvent]:
    """The company's events (those of its members) of `types`, written no later than `until`, oldest first (by
    row id), after row `after` when given."""
    members = select(Customer.id).where(Customer.company_id == company_id)
    stmt = (select(OutboxEvent)
            .where(OutboxEvent.customer_id.in_(members), OutboxEvent.type.in_(types), OutboxEvent.created_at <= until)
            .order_by(OutboxEvent.id).limit(limit))
    if after is not None:
        stmt = stmt.where(OutboxEvent.id > after)
    return list(db.session.scalars(stmt))
