"""The quality unit's signatures on a lot: release, rejection and recall (the results they judge are in shop.lab)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import StaffRole
from shop.platform.database import Base, _enum, utcnow

if TYPE_CHECKING:
    from shop.inventory.models import Batch


class SignedAction(enum.StrEnum):
    RELEASE = "release"
    REJECT = "reject"
    RECALL = "recall"


class LotSignature(Base):
    """An electronic signature on a QC decision: who (name and email as they were), what they declared, when."""

    __tablename__ = "lot_signature"
    __table_args__ = (Index("ix_lot_signature_batch_id_action", "batch_id", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    action: Mapped[SignedAction] = mapped_column(_enum(SignedAction, "signed_action"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    signer_name: Mapped[str] = mapped_column(String(120))
    signer_email: Mapped[str] = mapped_column(String(254))
    # The role signed in: quality (the quality unit); a signature from before that was required may name admin.
    signer_role: Mapped[StaffRole] = mapped_column(_enum(StaffRole, "staff_role"))
    meaning: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Release only: whether the signer recorded none of the lot's current results (the two-person rule).
    independent: Mapped[bool] = mapped_column(default=True, server_default=true())

    batch: Mapped[Batch] = relationship(back_populates="signatures")

    @property
    def capacity(self) -> str:
        return signer_capacity(self.signer_role)


def signer_capacity(role: StaffRole | str) -> str:
    """In what capacity a QC decision was signed, as the CoA, the staff lot page and the API say it: 'quality
    unit', or the signer's real role for one signed before that role was required ('admin (not the quality
    unit)')."""
    return "quality unit" if role == StaffRole.QUALITY else f"{role} (not the quality unit)"


# Every capacity signer_capacity can say, for the API's schema.
SIGNER_CAPACITIES = [signer_capacity(role) for role in sorted(StaffRole, key=lambda r: r != StaffRole.QUALITY)]
