"""Inventory: batches (lots) with their CoA results, stock per lot and pack size, and the ledger."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class Batch(Base):
    """A production lot of one product."""

    __tablename__ = "batch"
    __table_args__ = (CheckConstraint("expires_on > manufactured_on", name="expires_after_made"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    lot_number: Mapped[str] = mapped_column(String(40), unique=True)
    manufactured_on: Mapped[date]
    expires_on: Mapped[date]
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus, "batch_status"), default=BatchStatus.QUARANTINE)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    status_changed_at: Mapped[datetime | None]
    status_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    product: Mapped[Product] = relationship()
    results: Mapped[list[CoaResult]] = relationship(back_populates="batch", cascade="all, delete-orphan")
    stocks: Mapped[list[Stock]] = relationship(back_populates="batch", order_by="Stock.variant_id")

    def __repr__(self) -> str:
        return f"<Batch {self.lot_number} {self.status}>"


class CoaResult(Base):
    """The result of one specification test on one batch, as it appears on the CoA."""

    __tablename__ = "coa_result"
    __table_args__ = (UniqueConstraint("batch_id", "spec_test_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    spec_test_id: Mapped[int] = mapped_column(ForeignKey("spec_test.id"), index=True)
    # Exactly what the lab reported ('99.6', 'conforms'); numeric_value is its parsed number.
    value: Mapped[str] = mapped_column(String(60))
    numeric_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    batch: Mapped[Batch] = relationship(back_populates="results")
    spec_test: Mapped[SpecTest] = relationship()

    @property
    def passed(self) -> bool:
        return result_passes(self.spec_test, self.value, self.numeric_value)


def result_passes(test: SpecTest, value: str, numeric: Decimal | None) -> bool:
    """Whether a reported result meets the spec test's limits."""
    if test.qualitative:
        return value.strip().lower() == "conforms"
    if numeric is None:
        return False
    if test.min_value is not None and numeric < test.min_value:
        return False
    return not (test.max_value is not None and numeric > test.max_value)


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


Index("ix_batch_product_id_status_expires_on", Batch.product_id, Batch.status, Batch.expires_on)
Index("ix_batch_status_expires_on", Batch.status, Batch.expires_on)
