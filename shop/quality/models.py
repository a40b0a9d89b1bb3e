"""Quality records of a lot: CoA results (with their revisions) and the signatures of release, rejection and recall."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import StaffRole
from shop.catalog.models import SpecTest
from shop.platform.database import Base, _enum, utcnow
from shop.quality import results

if TYPE_CHECKING:
    from shop.inventory.models import Batch


class _ReportedValue:
    """A value reported for one test of one lot, and who recorded it when: a staff member, or a laboratory system
    named in `source`. As recorded and printed ('0.080', '< 5', 'conforms'); numeric_value is its number (for
    '< 5': 5) and qualifier '<' marks a result below the limit of quantification."""

    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    spec_test_id: Mapped[int] = mapped_column(ForeignKey("spec_test.id"), index=True)
    value: Mapped[str] = mapped_column(String(60))
    numeric_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    qualifier: Mapped[str | None] = mapped_column(String(1))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    source: Mapped[str] = mapped_column(String(120), default="", server_default="")


class CoaResult(_ReportedValue, Base):
    """The current result of one specification test on one batch, as it appears on the CoA."""

    __tablename__ = "coa_result"
    __table_args__ = (UniqueConstraint("batch_id", "spec_test_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)

    batch: Mapped[Batch] = relationship(back_populates="results")
    spec_test: Mapped[SpecTest] = relationship()

    @property
    def check(self) -> results.Check:
        """The stored value read again under today's entry rules (a value recorded before them may be refused)."""
        return check_result(self.spec_test, self.value)

    @property
    def passed(self) -> bool:
        return result_passes(self.spec_test, self.value)


class CoaResultRevision(_ReportedValue, Base):
    """Every value ever recorded for a test of a lot, in order: a correction never loses the earlier value."""

    __tablename__ = "coa_result_revision"
    __table_args__ = (Index("ix_coa_result_revision_batch_id_spec_test_id_id", "batch_id", "spec_test_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)


def check_result(test: SpecTest, value: str) -> results.Check:
    """A reported value read and judged against the test's limits by the entry rules."""
    return results.check(value, unit=test.unit, minimum=test.min_value, maximum=test.max_value,
                         limits=test.limits_text)


def result_passes(test: SpecTest, value: str, numeric: Decimal | None = None) -> bool:
    """Whether a reported result meets the spec test's limits: read again from its text by the entry rules, so
    that a value recorded before them ('1,500') never passes. `numeric` is ignored (kept for callers)."""
    found = check_result(test, value)
    return not found.refused and found.verdict == results.Verdict.PASS


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
