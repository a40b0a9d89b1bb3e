"""Companies: the buying organisations behind the accounts, their members' roles, and contract price lists."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .catalog import Variant

PREPAID = "prepaid"


class MemberRole(enum.StrEnum):
    """What a member (or an API key) of a company may do; each role may also do what the ones before it may."""

    BUYER = "buyer"  # orders
    APPROVER = "approver"  # also approves orders above the company's threshold
    ADMIN = "admin"  # also manages the company's members and API keys

    def may(self, role: MemberRole) -> bool:
        """Whether this role includes `role`."""
        order = list(MemberRole)
        return order.index(self) >= order.index(role)


def needs_approval(threshold: Decimal | None, role: MemberRole, total: Decimal) -> bool:
    """Whether an order waits for an approver: placed by a buyer, with a total strictly above the threshold."""
    return threshold is not None and role == MemberRole.BUYER and total > threshold


class Company(Base):
    """A buying organisation: its members sign in, its keys call the API, and it owns the orders."""

    __tablename__ = "company"
    __table_args__ = (
        CheckConstraint("payment_terms = 'prepaid' OR payment_terms LIKE 'net\\_%' ESCAPE '\\'",
                        name="payment_terms_known"),
        CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="credit_limit_not_negative"),
        CheckConstraint("approval_threshold IS NULL OR approval_threshold >= 0", name="threshold_not_negative"),
        Index("ix_company_name_id", "name", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))  # the legal name
    vat_id: Mapped[str] = mapped_column(String(20), default="")
    billing_line1: Mapped[str] = mapped_column(String(200), default="")
    billing_line2: Mapped[str] = mapped_column(String(200), default="")
    billing_city: Mapped[str] = mapped_column(String(100), default="")
    billing_postal_code: Mapped[str] = mapped_column(String(20), default="")
    billing_country: Mapped[str] = mapped_column(String(2), default="")
    payment_terms: Mapped[str] = mapped_column(String(12), default=PREPAID)
    credit_limit: Mapped[Decimal | None]
    approval_threshold: Mapped[Decimal | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    price_lists: Mapped[list[PriceList]] = relationship(back_populates="company", order_by="PriceList.id",
                                                        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Company {self.name}>"


class PriceList(Base):
    """A company's contract prices, valid from/to (both days inclusive, UTC; open-ended where empty).

    A company's lists never overlap in time (services.price_lists refuses it), so at most one applies on a day.
    """

    __tablename__ = "price_list"
    __table_args__ = (
        CheckConstraint("valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to", name="dates_in_order"),
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
