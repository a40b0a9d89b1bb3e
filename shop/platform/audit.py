"""The shop-wide audit log: staff actions that leave no ledger row or order history of their own."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.platform.database import Base, utcnow
from shop.platform.extensions import db

if TYPE_CHECKING:
    from shop.accounts.models import StaffUser


class AuditEntry(Base):
    """A staff action that is not already a ledger row or an order status change."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_at_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    staff: Mapped[StaffUser | None] = relationship()


# Every action the audit log records: the staff audit page offers them as filters without reading the log.
AUDIT_ACTIONS = (
    "batch.quarantine", "batch.released", "batch.rejected", "batch.recalled",
    "batch.on_request", "batch.on_request_cleared", "coa.results_recorded", "order.attention_cleared",
    "order.flagged", "order.reallocated", "order.backordered", "signature.refused", "customer.deactivated",
    "customer.activated",
    "api_key.revoked", "company.terms", "price_list.created", "price_list.replaced", "price_list.deleted",
    "staff.password_reset_sent", "staff.roles_changed", "complaint.investigated", "complaint.closed",
    "document.added", "quote.withdrawn", "quote.flagged", "payment.recorded", "refund.recorded", "credit_note.issued",
)


def audit(staff: StaffUser | int | None, action: str, subject: str, detail: str = "") -> None:
    """Record a staff action that leaves no ledger row or order history of its own (`action`: AUDIT_ACTIONS);
    `staff` is the staff user or their id."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"{action!r} is not in AUDIT_ACTIONS: add it there, so the audit page offers it")
    staff_id = staff if isinstance(staff, int) else getattr(staff, "id", None)
    db.session.add(AuditEntry(staff_id=staff_id, action=action, subject=subject, detail=detail))
