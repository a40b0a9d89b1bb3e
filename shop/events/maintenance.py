"""Periodic housekeeping on the task queue: the idempotency purge, the daily expiry alert to staff, and
cancelling orders that waited too long for approval."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select

from .. import mail
from ..extensions import db
from ..models import IdempotencyRecord, StaffRole, StaffUser, utcnow
from ..services import approvals, reports
from ..services.tx import run_in_transaction

EXPIRY_ALERT_DAYS = 90
ALERTED_ROLES = (StaffRole.ADMIN, StaffRole.WAREHOUSE, StaffRole.QUALITY)


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
    staff = db.session.scalars(select(StaffUser.email).where(StaffUser.active.is_(True),
                                                             StaffUser.role.in_(ALERTED_ROLES))).all()
    if staff:
        mail.send(list(staff), f"{len(expiring)} lot(s) expire within {EXPIRY_ALERT_DAYS} days", "expiry_alert",
                  lots=expiring, days=EXPIRY_ALERT_DAYS, today=today)
        db.session.commit()
    return len(expiring)
