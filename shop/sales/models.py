"""Quotes and their lines, the stock they hold, sample requests, and the yearly counters their numbers come from."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import ApiKey, Company, Customer, StaffUser
from shop.catalog.models import Product, Variant
from shop.inventory.models import Batch, Stock
from shop.ordering.models import Order
from shop.platform.database import Base, _enum, utcnow


class QuoteStatus(enum.StrEnum):
    REQUESTED = "requested"  # asked for, not answered yet: the sales queue
    ANSWERED = "answered"  # priced (and maybe held) until valid_until: the buyer may accept or decline
    ACCEPTED = "accepted"  # turned into an order (Quote.order_id)
    DECLINED = "declined"  # the buyer said no
    EXPIRED = "expired"  # valid_until passed without an answer from the buyer
    WITHDRAWN = "withdrawn"  # sales took it back


class SalesSequence(Base):
    """The last serial given in a year to quotes (`kind` "Q") or sample requests ("S"): one row per kind and year,
    updated under its row lock, so that two requests never get one number."""

    __tablename__ = "sales_sequence"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Quote(Base):
    __tablename__ = "quote"
    __table_args__ = (
        CheckConstraint("min_remaining_shelf_life_days IS NULL OR min_remaining_shelf_life_days >= 0",
                        name="shelf_life_not_negative"),
        # The company's list, newest first (keyset); the sales queue by status, oldest first; expiry by date.
        Index("ix_quote_company_id_requested_at_id", "company_id", "requested_at", "id"),
        Index("ix_quote_status_requested_at_id", "status", "requested_at", "id"),
        Index("ix_quote_status_valid_until", "status", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # Q-2026-00012
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)  # who asked (a key: its maker)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), index=True)  # the key that asked
    status: Mapped[QuoteStatus] = mapped_column(_enum(QuoteStatus, "quote_status"), default=QuoteStatus.REQUESTED)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    min_remaining_shelf_life_days: Mapped[int | None]
    needed_by: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")  # the buyer's
    # The answer: prices per line, valid through this day (UTC), sales' note, and whether the units are held.
    valid_until: Mapped[date | None]
    answer_note: Mapped[str] = mapped_column(Text, default="")
    hold: Mapped[bool] = mapped_column(default=False)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # How it ended (accepted, declined, expired, withdrawn), when, and the order an acceptance placed.
    closed_at: Mapped[datetime | None]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), unique=True)
    # What sales must look at, for staff only (a recall took held units that other lots could not replace); empty
    # when nothing is: the queue shows it.
    attention_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    company: Mapped[Company] = relationship()
    customer: Mapped[Customer] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()
    answered_by: Mapped[StaffUser | None] = relationship()
    order: Mapped[Order | None] = relationship()
    lines: Mapped[list[QuoteLine]] = relationship(back_populates="quote", order_by="QuoteLine.position",
                                                  cascade="all, delete-orphan")

    @property
    def requested_by(self) -> str:
        """Who asked: the API key's name, else the person's e-mail."""
        return (self.api_key or self.customer).actor_name


class QuoteLine(Base):
    __tablename__ = "quote_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price IS NULL OR unit_price > 0", name="unit_price_positive"),
        UniqueConstraint("quote_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quote.id", ondelete="CASCADE"))
    position: Mapped[int]
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal | None]  # None until answered

    quote: Mapped[Quote] = relationship(back_populates="lines")
    variant: Mapped[Variant] = relationship()
    holds: Mapped[list[StockHold]] = relationship(back_populates="line", order_by="StockHold.id",
                                                  cascade="all, delete-orphan")

    @property
    def held_quantity(self) -> int:
        return sum(h.quantity for h in self.holds if h.status == HoldStatus.HELD)


class HoldStatus(enum.StrEnum):
    HELD = "held"  # set aside: counted as allocated on its stock row
    RELEASED = "released"  # given back to stock (declined, withdrawn, expired, recalled)
    ORDERED = "ordered"  # became the allocation of the order that accepted the quote


class StockHold(Base):
    """Units of one stock row (a lot and pack size) set aside for a quote line."""

    __tablename__ = "stock_hold"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      Index("ix_stock_hold_stock_id_status", "stock_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_line_id: Mapped[int] = mapped_column(ForeignKey("quote_line.id", ondelete="CASCADE"), index=True)
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id"))
    quantity: Mapped[int]
    status: Mapped[HoldStatus] = mapped_column(_enum(HoldStatus, "hold_status"), default=HoldStatus.HELD)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_at: Mapped[datetime | None]

    line: Mapped[QuoteLine] = relationship(back_populates="holds")
    stock: Mapped[Stock] = relationship()


class SampleStatus(enum.StrEnum):
    REQUESTED = "requested"
    SHIPPED = "shipped"
    DECLINED = "declined"


class SampleRequest(Base):
    """A buyer's request for a sample of a grade, and how sales answered it: shipped from a lot (from sellable
    stock, `stock_id` and `units`, a ledger row; or from the lot's retained sample, grams only) or declined."""

    __tablename__ = "sample_request"
    __table_args__ = (
        CheckConstraint("quantity_g > 0", name="quantity_positive"),
        CheckConstraint("units IS NULL OR units > 0", name="units_positive"),
        Index("ix_sample_request_company_id_requested_at_id", "company_id", "requested_at", "id"),
        Index("ix_sample_request_status_requested_at_id", "status", "requested_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # S-2026-00007
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity_g: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    ship_name: Mapped[str] = mapped_column(String(200))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str] = mapped_column(String(200), default="")
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_postal_code: Mapped[str] = mapped_column(String(20))
    ship_country: Mapped[str] = mapped_column(String(2))
    status: Mapped[SampleStatus] = mapped_column(_enum(SampleStatus, "sample_status"),
                                                 default=SampleStatus.REQUESTED)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How sales answered: the lot it came from, from which stock row and how many units (None: the retained
    # sample), the carrier's reference, who and when; or why it was declined.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), index=True)
    stock_id: Mapped[int | None] = mapped_column(ForeignKey("stock.id"))
    units: Mapped[int | None]
    tracking_reference: Mapped[str] = mapped_column(String(100), default="")
    answer_note: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    company: Mapped[Company] = relationship()
    customer: Mapped[Customer] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()
    product: Mapped[Product] = relationship()
    batch: Mapped[Batch | None] = relationship()
    stock: Mapped[Stock | None] = relationship()
    answered_by: Mapped[StaffUser | None] = relationship()

    @property
    def shipping_address(self) -> dict[str, str]:
        return {"name": self.ship_name, "line1": self.ship_line1, "line2": self.ship_line2,
                "city": self.ship_city, "postal_code": self.ship_postal_code, "country": self.ship_country}
