"""Product documents (every version kept) and the versions recorded on an order when it was confirmed."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product
from shop.platform.database import Base, utcnow


class ProductDocument(Base):
    """One version of one kind of document of a product; the file itself is in storage under `storage_key`."""

    __tablename__ = "product_document"
    __table_args__ = (
        UniqueConstraint("product_id", "kind", "version"),
        Index("ix_product_document_current", "product_id", "kind", "issued_on", "id"),
        Index("ix_product_document_valid_until", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # a rules.DocumentKind
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[date]
    valid_until: Mapped[date | None]
    storage_key: Mapped[str] = mapped_column(String(60), unique=True)
    size_bytes: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()


class OrderDocument(Base):
    """A document version that was current for the order's product when the order was confirmed."""

    __tablename__ = "order_document"

    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("product_document.id", ondelete="RESTRICT"),
                                             primary_key=True, index=True)
