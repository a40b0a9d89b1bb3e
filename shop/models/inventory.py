"""Inventory: batches (lots) with their CoA results, stock per lot and pack size, and the ledger."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..services import results
from .base import Base, utcnow
from .catalog import Product, SpecTest, Variant


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK: portable, and migrations stay simple.
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
                validate_strings=True, create_constraint=True)


class BatchStatus(enum.StrEnum):
    QUARANTINE = "quarantine"
    RELEASED = "released"
    REJECTED = "rejected"
    RECALLED = "recalled"


class DateKind(enum.StrEnum):
    """What a lot's date is: an expiry date, or a retest date (the lot may be retested and its date extended)."""

    EXPIRY = "expiry"
    RETEST = "retest"

    @property
    def label(self) -> str:
        return "Expiry date" if self is DateKind.EXPIRY else "Retest date"


class Batch(Base):
    """A production lot of one product."""

    __tablename__ = "batch"
    __table_args__ = (CheckConstraint("expires_on > manufactured_on", name="expires_after_made"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    # Unique without regard to case (the index below): people type lot numbers, and USP-2501 and usp-2501 are
    # one lot to them.
    lot_number: Mapped[str] = mapped_column(String(40))
    manufactured_on: Mapped[date]
    # The expiry date, or the retest date when date_kind says so; FEFO and shelf life use it either way.
    expires_on: Mapped[date]
    date_kind: Mapped[DateKind] = mapped_column(_enum(DateKind, "date_kind"), default=DateKind.EXPIRY,
                                                server_default=DateKind.EXPIRY.value)
    # Sold only when fulfilment allocates it to an order by hand: never picked first-expired-first-out.
    on_request: Mapped[bool] = mapped_column(default=False, server_default=false())
    # When QC released the lot; kept after a recall, so that the recalled lot's CoA still shows it.
    released_at: Mapped[datetime | None]
    # What customers are told about a recall (the internal reason is status_reason).
    recall_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "batch_status"), default=BatchStatus.QUARANTINE)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    status_changed_at: Mapped[datetime | None]
    status_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    product: Mapped[Product] = relationship()
    results: Mapped[list[CoaResult]] = relationship(back_populates="batch", cascade="all, delete-orphan")
    stocks: Mapped[list[Stock]] = relationship(back_populates="batch", order_by="Stock.variant_id")
    signatures: Mapped[list[LotSignature]] = relationship(back_populates="batch", order_by="LotSignature.id")

    def __repr__(self) -> str:
        return f"<Batch {self.lot_number} {self.status}>"


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
    meaning: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Release only: whether the signer recorded none of the lot's current results (the two-person rule).
    independent: Mapped[bool] = mapped_column(default=True, server_default=true())

    batch: Mapped[Batch] = relationship(back_populates="signatures")


class Stock(Base):
    """Units of one pack size filled from one lot: on hand and allocated to orders."""

    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("batch_id", "variant_id"),
        CheckConstraint("allocated >= 0", name="allocated_not_negative"),
        CheckConstraint("allocated <= on_hand", name="allocated_within_on_hand"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"), index=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)

    batch: Mapped[Batch] = relationship(back_populates="stocks")
    variant: Mapped[Variant] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class MovementKind(enum.StrEnum):
    RECEIPT = "receipt"
    ALLOCATION = "allocation"
    DEALLOCATION = "deallocation"
    SHIPMENT = "shipment"
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"


class StockMovement(Base):
    """Append-only ledger: every change of a stock row's on_hand or allocated, with why and who."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        CheckConstraint("on_hand_delta <> 0 OR allocated_delta <> 0", name="moves_something"),
        Index("ix_stock_movement_stock_id_id", "stock_id", "id"),
        Index("ix_stock_movement_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id"))
    kind: Mapped[MovementKind] = mapped_column(_enum(MovementKind, "movement_kind"))
    on_hand_delta: Mapped[int] = mapped_column(default=0)
    allocated_delta: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stock: Mapped[Stock] = relationship()


Index("uq_batch_lot_number_lower", func.lower(Batch.lot_number), unique=True)
Index("ix_batch_product_id_status_expires_on", Batch.product_id, Batch.status, Batch.expires_on)
Index("ix_batch_status_expires_on", Batch.status, Batch.expires_on)
