"""The catalog: products (grades) with their specification, pack sizes, price breaks and contract price lists."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, FetchedValue, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.platform.database import Base, utcnow

if TYPE_CHECKING:
    from shop.accounts.models import Company

DEFAULT_STORAGE = "Store in the tightly closed original container at 15–25 °C, dry and protected from light."


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(80))
    cas_number: Mapped[str] = mapped_column(String(20))
    formula: Mapped[str] = mapped_column(String(40))
    molecular_weight: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # Printed on every CoA of the grade.
    storage_conditions: Mapped[str] = mapped_column(Text, default=DEFAULT_STORAGE, server_default=DEFAULT_STORAGE)
    # Counted up by database triggers (migration 0034) whenever the product, its specification, pack sizes, price
    # breaks or documents change: the storefront's catalog cache compares it. Never written by the shop.
    catalog_version: Mapped[int] = mapped_column(server_default="0", server_onupdate=FetchedValue())

    spec_tests: Mapped[list[SpecTest]] = relationship(
        back_populates="product", order_by="SpecTest.position", cascade="all, delete-orphan"
    )
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.pack_size_kg", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Product {self.slug}>"


class SpecTest(Base):
    """One line of a grade's specification.

    Numeric tests carry a minimum and/or maximum; a test with neither (appearance,
    identification by IR) is qualitative and passes only with the result 'conforms'.
    """

    __tablename__ = "spec_test"
    __table_args__ = (
        UniqueConstraint("product_id", "name"),
        CheckConstraint("min_value IS NULL OR max_value IS NULL OR min_value <= max_value", name="limits_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    min_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    unit: Mapped[str] = mapped_column(String(30), default="")
    method: Mapped[str] = mapped_column(String(120), default="")

    product: Mapped[Product] = relationship(back_populates="spec_tests")

    @property
    def qualitative(self) -> bool:
        return self.min_value is None and self.max_value is None

    @property
    def signed(self) -> bool:
        """Whether the limits are signed values: an optical rotation (unit '°'; temperatures are '°C').

        The sign of a rotation is part of the value (the two enantiomers turn light opposite ways), so
        monographs write '+14.9° to +17.3°'; the other limits are plain amounts and show no plus sign.
        """
        return self.unit.strip() == "°"

    @property
    def limits_text(self) -> str:
        """Human-readable limits, e.g. '98.5 – 101.5 %', '+14.9 – +17.3 °', '≤ 0.2 %' or 'conforms'."""
        unit = f" {self.unit}" if self.unit else ""
        lo, hi = self.min_value, self.max_value
        if lo is None and hi is None:
            return "conforms"
        if lo is not None and hi is not None:
            return f"{_fmt(lo, self.signed)} – {_fmt(hi, self.signed)}{unit}"
        if hi is not None:
            return f"≤ {_fmt(hi, self.signed)}{unit}"
        return f"≥ {_fmt(lo, self.signed)}{unit}"


def _fmt(value: Decimal, signed: bool = False) -> str:
    """Render a limit without trailing zeros ('0.2000' -> '0.2'); with `signed`, always with its sign ('+14.9')."""
    return format(value.normalize(), "+f" if signed and value else "f")


class Variant(Base):
    """A pack size of a product, sold by the unit."""

    __tablename__ = "variant"
    __table_args__ = (
        CheckConstraint("pack_size_kg > 0", name="pack_size_positive"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
        CheckConstraint("min_order_quantity >= 1", name="moq_positive"),
        CheckConstraint("tare_kg IS NULL OR tare_kg >= 0", name="tare_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    pack_size_kg: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    unit_price: Mapped[Decimal]
    min_order_quantity: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    # The packaging of one pack (bag, drum, big bag, liner), for the gross weight on packing slips; None while
    # nobody has weighed it: the slip then says so rather than print a made-up gross weight.
    tare_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))

    product: Mapped[Product] = relationship(back_populates="variants")
    price_breaks: Mapped[list[PriceBreak]] = relationship(
        back_populates="variant", order_by="PriceBreak.min_quantity", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Variant {self.sku}>"


class PriceBreak(Base):
    __tablename__ = "price_break"
    __table_args__ = (
        UniqueConstraint("variant_id", "min_quantity"),
        CheckConstraint("min_quantity >= 2", name="min_quantity_above_one"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    min_quantity: Mapped[int]
    unit_price: Mapped[Decimal]

    variant: Mapped[Variant] = relationship(back_populates="price_breaks")


Index("ix_product_active_position", Product.active, Product.position)


class PriceList(Base):
    """A company's contract prices, valid from/to (both days inclusive, UTC; open-ended where empty).

    A company's lists never overlap in time (catalog.price_lists refuses it), so at most one applies on a day.
    """

    __tablename__ = "price_list"
    __table_args__ = (
        CheckConstraint("valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to", name="dates_in_order"),
        {"sqlite_autoincrement": True},  # a deleted list's id (its audit line names it) is never given to another
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    company: Mapped[Company] = relationship(back_populates="price_lists")
    items: Mapped[list[PriceListItem]] = relationship(
        back_populates="price_list", order_by="(PriceListItem.variant_id, PriceListItem.min_quantity)",
        cascade="all, delete-orphan")

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class PriceListItem(Base):
    """A contract unit price for one pack size from a quantity up."""

    __tablename__ = "price_list_item"
    __table_args__ = (
        UniqueConstraint("price_list_id", "variant_id", "min_quantity"),
        CheckConstraint("min_quantity >= 1", name="min_quantity_positive"),
        CheckConstraint("unit_price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"), index=True)
    min_quantity: Mapped[int]
    unit_price: Mapped[Decimal]

    price_list: Mapped[PriceList] = relationship(back_populates="items")
    variant: Mapped[Variant] = relationship()
