"""Inventory: batches (lots), stock per lot and pack size, and the ledger."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product, Variant
from shop.platform.database import Base, _enum, utcnow

if TYPE_CHECKING:
    from shop.lab.models import CoaResult
    from shop.quality.models import LotSignature


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
        """The date's name in a sentence or beside it: 'Expiry date', 'Retest date'."""
        return "Expiry date" if self is DateKind.EXPIRY else "Retest date"

    @property
    def word(self) -> str:
        """The word before the date in a table cell whose column holds either kind: 'Expiry', 'Retest'."""
        return "Expiry" if self is DateKind.EXPIRY else "Retest"

    def dated(self, on: date) -> str:
        """A lot's date in a column of lots of either kind (headed "Expiry / retest"): 'Retest 2028-01-27'. A
        retest date is not an expiry: the lot may be retested and its date extended."""
        return f"{self.word} {on.isoformat()}"


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
