"""The work of the task queue's workers: every task and periodic job, registered by name (`register`), and the
housekeeping jobs themselves: the idempotency purge, the daily expiry alert to staff, the weekly certificate alert
to quality, and cancelling orders that waited too long for approval (quotes expire by their area's function).
`register` also connects what follows a message's sending and a member's change."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Flask, current_app
from huey import crontab
from sqlalchemy import delete, select

from shop.accounts import companies
from shop.accounts.models import StaffRole, StaffUser, StaffUserRole
from shop.documents.rules import FLAG_DAYS
from shop.events import delivery, dispatch, emails, webhooks
from shop.ordering import approvals
from shop.ordering.models import IdempotencyRecord
from shop.platform import mail, mail_worker
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.queue import EXTENSION, WEBHOOKS
from shop.platform.tx import run_in_transaction
from shop.reporting import reports
from shop.sales import quotes

EXPIRY_ALERT_DAYS = 90
ALERTED_ROLES = (StaffRole.ADMIN, StaffRole.WAREHOUSE, StaffRole.QUALITY)
CERTIFICATE_ALERTED_ROLES = (StaffRole.ADMIN, StaffRole.QUALITY)  # who may upload a certificate's new version


def expire_approvals() -> list[str]:
    """Cancel the orders that waited for approval longer than APPROVAL_EXPIRY_HOURS (their stock released);
    the numbers cancelled."""
    return run_in_transaction(approvals.expire_waiting)


def purge_idempotency(hours: int | None = None) -> int:
    """Delete Idempotency-Key records older than `hours` (default IDEMPOTENCY_TTL_HOURS); how many."""
    keep = hours if hours is not None else current_app.config["IDEMPOTENCY_TTL_HOURS"]
    cutoff = utcnow() - timedelta(hours=keep)
    deleted = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)).rowcount
    db.session.commit()
    return deleted


def expiry_alert(today: date | None = None) -> int:
    """E-mail warehouse, quality and admin staff the lots that expire within 90 days; how many lots."""
    today = today or date.today()
    expiring = reports.dashboard(EXPIRY_ALERT_DAYS, current_app.config["LOW_STOCK_UNITS"], today).expiring
    if not expiring:
        return 0
    staff = _active_staff(ALERTED_ROLES)
    if staff:
        mail.send(staff, f"{len(expiring)} lot(s) expire within {EXPIRY_ALERT_DAYS} days", "expiry_alert",
                  lots=expiring, days=EXPIRY_ALERT_DAYS, today=today)
        db.session.commit()
    return len(expiring)


def certificate_alert(today: date | None = None) -> int:
    """E-mail quality and admin staff the current certificates of our products that have ended or end within 60
    days (nothing when none has); how many."""
    today = today or date.today()
    flagged = reports.flagged_certificates(today)
    if not flagged:
        return 0
    staff = _active_staff(CERTIFICATE_ALERTED_ROLES)
    if staff:
        mail.send(staff, f"{len(flagged)} certificate(s) to renew", "certificate_alert", certificates=flagged,
                  days=FLAG_DAYS, today=today)
        db.session.commit()
    return len(flagged)


def _active_staff(roles: tuple[StaffRole, ...]) -> list[str]:
    """The e-mail addresses of active staff holding any of `roles`, in order."""
    return list(db.session.scalars(select(StaffUser.email).where(StaffUser.active.is_(True), StaffUser.role_rows.any(
        StaffUserRole.role.in_(roles))).order_by(StaffUser.email)))


def register(app: Flask) -> None:
    """Register the tasks and periodic jobs on the app's queue (names fixed: every process finds them by name), and
    what follows a message's sending and a member's removal or new role (their webhook endpoints disabled)."""
    queue = app.extensions[EXTENSION]
    queue.task("dispatch_event", dispatch.dispatch)
    queue.task("deliver_webhook", delivery.attempt_delivery, lane=WEBHOOKS)  # slow receivers hold up only their lane
    queue.task("send_mail", mail_worker.deliver)  # retried on its row's schedule, not by the queue
    queue.periodic("sweep_outbox", dispatch.sweep, crontab(minute="*"))
    queue.periodic("sweep_deliveries", delivery.sweep_due, crontab(minute="*"))
    queue.periodic("sweep_mail", mail_worker.sweep, crontab(minute="*"))
    queue.periodic("purge_idempotency", purge_idempotency, crontab(minute="17"))
    queue.periodic("expiry_alert", expiry_alert, crontab(hour="6", minute="0"))
    queue.periodic("certificate_alert", certificate_alert, crontab(day_of_week="1", hour="6", minute="30"))  # Mondays
    queue.periodic("expire_approvals", expire_approvals, crontab(minute="*/5"))
    # Hourly: a quote expires the day after its last valid day (UTC); acceptance checks the day itself meanwhile.
    queue.periodic("expire_quotes", quotes.expire_quotes, crontab(minute="7"))
    mail.sent.connect(emails.notices_sent)  # one connection, however many apps (a receiver is kept once)
    companies.member_changed.connect(webhooks.maker_lost_rights)
