"""Sending the outbox's e-mail: claim a message, hand it to the SMTP server, record the outcome, retry or give up.

A message is sent by whichever worker claims it first (`claimed_until`, a lease longer than an SMTP session
may take): two workers given the same message send it once, and a worker that dies mid-send lets its lease run
out, after which `sweep` hands the message over again (so delivery is at least once). A message counts as sent
only once the server accepted it; until then it is retried on the webhooks' schedule (MAIL_RETRY_SCHEDULE),
then marked failed for staff to see. SMTP runs outside any database transaction: a slow server holds no lock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.mail import Attachment, OutboxMail, sent
from shop.platform.outbox import after_commit
from shop.platform.queue import hand_over
from shop.platform.retry import describe, retry_delay
from shop.platform.tx import run_in_transaction

log = logging.getLogger(__name__)
SWEEP_BATCH = 500
# Connect, greeting, STARTTLS, MAIL, RCPT and DATA may each take up to MAIL_TIMEOUT.
_LEASE_TIMEOUTS = 6


@dataclass(frozen=True)
class Message:
    """What a worker that claimed a message needs to send it."""

    to: list[str]
    subject: str
    body_text: str
    body_html: str
    attachments: tuple[Attachment, ...] = ()


def deliver(mail_id: int) -> bool | None:
    """Claim the message, send it, and record the outcome (a worker's task): whether the server took it; None
    when there was nothing to do (sent or given up already, not due yet, or another worker holds it)."""
    message = run_in_transaction(_claim, mail_id)
    if message is None:
        return None
    error = _send(message)
    run_in_transaction(_record_outcome, mail_id, error)
    return error is None


def _claim(mail_id: int) -> Message | None:
    now = utcnow()
    lease = timedelta(seconds=current_app.config["MAIL_TIMEOUT"] * _LEASE_TIMEOUTS)
    taken = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None),
               OutboxMail.next_attempt_at <= now + timedelta(seconds=1),
               or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
        .values(claimed_until=now + lease)
    ).rowcount
    if not taken:
        return None
    row = db.session.get(OutboxMail, mail_id)
    return Message(row.to, row.subject, row.body_text, row.body_html,
                   tuple(Attachment(a.filename, a.content_type, a.content) for a in row.attachments))


def _send(message: Message) -> str | None:
    """Hand the message to the transport (Flask-Mailman: SMTP per the MAIL_* settings); None when it was
    accepted, else why not."""
    email = EmailMultiAlternatives(subject=message.subject, body=message.body_text, to=message.to)
    email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment.filename, attachment.content, attachment.content_type)
    try:
        accepted = email.send()
    except Exception as exc:  # noqa: BLE001 - whatever the transport raises, the message is retried
        return describe(exc)
    return None if accepted else "Not accepted"


def _record_outcome(mail_id: int, error: str | None) -> None:
    """Mark the message sent, or schedule the next attempt, or give up after the last one."""
    now = utcnow()
    row = db.session.get(OutboxMail, mail_id, with_for_update=True, populate_existing=True)
    row.attempts += 1
    row.claimed_until = None
    if error is None:
        row.sent_at, row.last_error = now, None
        sent.send(mail_id)
        return
    row.last_error = error
    delay = retry_delay(row.attempts, current_app.config["MAIL_RETRY_SCHEDULE"])
    if delay is None:
        row.failed_at = now
        log.warning("gave up on mail %d after %d attempts: %s", mail_id, row.attempts, error)
        return
    row.next_attempt_at = now + timedelta(seconds=delay)
    after_commit(lambda: hand_over("send_mail", [(mail_id,)], delay=delay))


def sweep() -> int:
    """Hand over messages that are due and held by no worker: those whose hand-over was lost (the queue down at
    COMMIT, the process dead right after), retries whose scheduled task was lost, and messages whose worker
    died mid-send (its lease ran out). A periodic job; how many."""
    now = utcnow()
    cutoff = now - timedelta(seconds=current_app.config["OUTBOX_SWEEP_AFTER_SECONDS"])
    due = db.session.scalars(
        select(OutboxMail.id)
        .where(OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_(None), OutboxMail.next_attempt_at <= cutoff,
               or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < now))
        .order_by(OutboxMail.next_attempt_at).limit(SWEEP_BATCH)
    ).all()
    db.session.rollback()
    hand_over("send_mail", [(mail_id,) for mail_id in due], sweeping=True)
    return len(due)


def failed_page(before_id: int | None, limit: int) -> list[OutboxMail]:
    """Messages given up on, newest first with their events, keyset-paginated on the id (one statement)."""
    stmt = (select(OutboxMail).where(OutboxMail.failed_at.is_not(None)).options(joinedload(OutboxMail.event))
            .order_by(OutboxMail.id.desc()).limit(limit))
    if before_id is not None:
        stmt = stmt.where(OutboxMail.id < before_id)
    return list(db.session.scalars(stmt))
