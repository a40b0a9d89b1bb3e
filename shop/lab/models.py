"""What the laboratory reported for a lot: each test's current CoA result and every revision of it, read and
judged by the one set of entry rules (shop.lab.results). Below ordering and quality alike: placing an order for
a company with its own specification, the CoA and the release all judge the same records."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import SpecTest
from shop.lab import results
from shop.platform.database import Base, utcnow

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
