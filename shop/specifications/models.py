"""A company's specification of a grade: one row per company and product, with one limit per tightened test."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.catalog.models import Product, SpecTest
from shop.platform.database import Base, utcnow


class CustomerSpecification(Base):
    """A company's limits for one grade (product); replaced whole by each PUT."""

    __tablename__ = "customer_specification"
    __table_args__ = (UniqueConstraint("company_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")  # a person's or an API key's name

    product: Mapped[Product] = relationship()
    limits: Mapped[list[CustomerLimit]] = relationship(
        back_populates="specification", cascade="all, delete-orphan", order_by="CustomerLimit.position")


class CustomerLimit(Base):
    """The company's minimum and/or maximum for one numeric test of the grade: within the grade's own limits."""

    __tablename__ = "customer_limit"
    __table_args__ = (
        UniqueConstraint("specification_id", "spec_test_id"),
        CheckConstraint("min_value IS NOT NULL OR max_value IS NOT NULL", name="some_limit"),
        CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="limits_ordered"),
        Index("ix_customer_limit_spec_test_id", "spec_test_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    specification_id: Mapped[int] = mapped_column(ForeignKey("customer_specification.id", ondelete="CASCADE"))
    spec_test_id: Mapped[int] = mapped_column(ForeignKey("spec_test.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    min_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))

    specification: Mapped[CustomerSpecification] = relationship(back_populates="limits")
    spec_test: Mapped[SpecTest] = relationship()
