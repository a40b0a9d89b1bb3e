"""A complaint, the lots it is about, its attachments, and the yearly counter its numbers come from."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.platform.database import Base, _enum, utcnow


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"  # filed, nobody has looked yet
    INVESTIGATING = "investigating"  # quality recorded the first findings
    CLOSED = "closed"  # resolved, signed


class ComplaintCategory(enum.StrEnum):
    QUALITY = "quality"
    DELIVERY = "delivery"
    DOCUMENTATION = "documentation"
    OTHER = "other"


class ComplaintSequence(Base):
    """The last serial given to a complaint in a year: one row per year, updated under its row lock."""

    __tablename__ = "complaint_sequence"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Complaint(Base):
    """A buyer's complaint on one order line, and its investigation and signed close (CAPA)."""

    __tablename__ = "complaint"
    __table_args__ = (
        # The company's list, newest first (keyset), and the quality queue, by status then oldest first.
        Index("ix_complaint_company_id_filed_at_id", "company_id", "filed_at", "id"),
        Index("ix_complaint_status_filed_at_id", "status", "filed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # C-2026-00012
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)  # who filed it (a key: its maker)
    filed_by: Mapped[str] = mapped_column(String(200))  # a person's e-mail or an API key's name
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(20))
    sku: Mapped[str] = mapped_column(String(40))
    category: Mapped[ComplaintCategory] = mapped_column(_enum(ComplaintCategory, "complaint_category"))
    description: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[ComplaintStatus] = mapped_column(_enum(ComplaintStatus, "complaint_status"),
                                                    default=ComplaintStatus.OPEN)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The investigation (CAPA), written by the quality unit.
    root_cause: Mapped[str] = mapped_column(Text, default="")
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    preventive_action: Mapped[str] = mapped_column(Text, default="")
    investigated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The close, signed as a release is: who (name and e-mail as they were), what they declared, when.
    resolution: Mapped[str | None] = mapped_column(Text)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    closed_at: Mapped[datetime | None]
    signer_name: Mapped[str] = mapped_column(String(120), default="")
    signer_email: Mapped[str] = mapped_column(String(254), default="")
    signature_meaning: Mapped[str] = mapped_column(Text, default="")
    # The recall that the complaint led to: the lot recalled, and when its recall was signed.
    recalled_lot_number: Mapped[str | None] = mapped_column(String(40))
    recalled_at: Mapped[datetime | None]

    lots: Mapped[list[ComplaintLot]] = relationship(back_populates="complaint", order_by="ComplaintLot.lot_number",
                                                    cascade="all, delete-orphan")
    attachments: Mapped[list[ComplaintAttachment]] = relationship(
        back_populates="complaint", order_by="ComplaintAttachment.id", cascade="all, delete-orphan")


class ComplaintLot(Base):
    """A lot that a complaint is about: one the line drew (or the one the buyer named among them)."""

    __tablename__ = "complaint_lot"
    __table_args__ = (Index("ix_complaint_lot_batch_id", "batch_id"),)  # every complaint on the same lot

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"), primary_key=True)
    lot_number: Mapped[str] = mapped_column(String(40))

    complaint: Mapped[Complaint] = relationship(back_populates="lots")


class ComplaintAttachment(Base):
    """A file that came with a complaint (a photo, a PDF): kept in the document storage under `storage_key`."""

    __tablename__ = "complaint_attachment"
    __table_args__ = (Index("ix_complaint_attachment_complaint_id", "complaint_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(255))  # as the buyer's computer named it: shown, never a path
    content_type: Mapped[str] = mapped_column(String(60))  # as its content says (uploads.check_upload)
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")
