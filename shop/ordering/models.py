"""Orders: lines, the lot allocations behind them, status history, notices and idempotency records."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import ApiKey, Company, Customer, StaffUser
from shop.catalog.models import Variant
from shop.documents.models import ProductDocument
from shop.inventory.models import Stock
from shop.invoicing import models as invoicing  # the invoices and payments of orders: one schema
from shop.platform.database import Base, _enum, utcnow


class OrderStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    PARTIALLY_SHIPPED = "partially_shipped"  # some units shipped, the rest (allocated or backordered) to come
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# What an order placed before the shop charged VAT says beside its 0.00 VAT (ordering.totals.decide_missing_vat).
PLACED_BEFORE_VAT = ("Ordered before prices showed VAT: the VAT is charged on the invoice when the goods ship, at the "
                     "rate for where they go.")


class Order(Base):
    __tablename__ = "order"
    __table_args__ = (
        CheckConstraint("min_remaining_shelf_life_days IS NULL OR min_remaining_shelf_life_days >= 0",
                        name="shelf_life_not_negative"),
        # Keyset pagination: a company's order book newest first, and the staff list by status.
        Index("ix_order_company_id_placed_at_id", "company_id", "placed_at", "id"),
        Index("ix_order_customer_id", "customer_id"),
        Index("ix_order_status_placed_at_id", "status", "placed_at", "id"),
        Index("ix_order_placed_at_id", "placed_at", "id"),
        # GET /api/v1/orders?updated_since=: a company's changed orders, oldest change first.
        Index("ix_order_company_id_updated_at_id", "company_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))  # who placed it (for a key: its maker)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"), index=True)  # the key that placed it
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "order_status"), default=OrderStatus.PENDING)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal]
    total: Mapped[Decimal]
    ship_name: Mapped[str] = mapped_column(String(200))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str] = mapped_column(String(200), default="")
    ship_city: Mapped[str] = mapped_column(String(100))
    ship_postal_code: Mapped[str] = mapped_column(String(20))
    ship_country: Mapped[str] = mapped_column(String(2))
    purchase_order: Mapped[str] = mapped_column(String(100), default="")
    min_remaining_shelf_life_days: Mapped[int | None]
    # Who carries the shipment and its tracking reference: told to the buyer when the order ships.
    carrier: Mapped[str] = mapped_column(String(60), server_default="")
    tracking_reference: Mapped[str] = mapped_column(String(100), server_default="")
    # Set when a recall took stock away from this order and it could not be re-covered.
    needs_attention: Mapped[bool] = mapped_column(default=False)
    attention_note: Mapped[str] = mapped_column(Text, default="")
    # Every line from one lot (the earliest-expiring that fills it whole), as the buyer asked.
    single_lot: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The buyer takes what is in stock now and has the rest of each short line backordered (OrderLine.backordered_
    # quantity), filled when a lot is released; without it a short order is refused whole.
    allow_backorder: Mapped[bool] = mapped_column(server_default=false())
    # Payment terms and VAT as decided when the order was placed (invoicing.vat); `total` = `subtotal` + `vat`.
    # Orders placed before VAT existed have no rule and no VAT until they ship (ordering.totals.decide_missing_vat).
    payment_terms: Mapped[str] = mapped_column(String(12), server_default="prepaid")
    vat_rule: Mapped[str | None] = mapped_column(String(20))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default="0")
    vat: Mapped[Decimal] = mapped_column(server_default="0")

    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Every change that an order event announces sets both (announce.touch), so that an integrator can tell the
    # newer of two payloads and list what changed since a time. A new order: version 1, updated when placed. The
    # version is a server default too, because the one-statement write (pg_write) leaves it to the database.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(server_default="1")

    company: Mapped[Company] = relationship()
    customer: Mapped[Customer] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", order_by="OrderLine.position",
                                                  cascade="all, delete-orphan")
    history: Mapped[list[OrderStatusChange]] = relationship(back_populates="order", order_by="OrderStatusChange.id",
                                                            cascade="all, delete-orphan")
    notices: Mapped[list[OrderNotice]] = relationship(back_populates="order", order_by="OrderNotice.id",
                                                      cascade="all, delete-orphan")
    # The document versions current when the order was confirmed: written once, by ordering.documents.record.
    documents: Mapped[list[ProductDocument]] = relationship(secondary="order_document", viewonly=True,
                                                            order_by=ProductDocument.id)
    shipments: Mapped[list[Shipment]] = relationship(back_populates="order", order_by="Shipment.sequence",
                                                     cascade="all, delete-orphan")
    # What invoicing recorded of the order (written there, read here): its invoices and credit notes, payments and
    # refunds.
    invoices: Mapped[list[invoicing.Invoice]] = relationship(viewonly=True, order_by="Invoice.id")
    payments: Mapped[list[invoicing.Payment]] = relationship(viewonly=True, order_by="Payment.id")
    refunds: Mapped[list[invoicing.Refund]] = relationship(viewonly=True, order_by="Refund.id")

    @property
    def amount_paid(self) -> Decimal:
        """The payments recorded against the order or its invoices, less what was refunded."""
        return (sum((payment.amount for payment in self.payments), Decimal("0.00"))
                - sum((refund.amount for refund in self.refunds), Decimal("0.00")))

    @property
    def placed_by(self) -> str:
        """Who placed the order: the API key's name, else the person's e-mail (never a key's maker)."""
        return (self.api_key or self.customer).actor_name

    @property
    def shipping_address(self) -> dict[str, str]:
        return {"name": self.ship_name, "line1": self.ship_line1, "line2": self.ship_line2,
                "city": self.ship_city, "postal_code": self.ship_postal_code, "country": self.ship_country}

    @property
    def vat_note(self) -> str:
        """Why a 0 % rate applies (what its documents must say), else ''."""
        if self.vat_rule is None:  # placed before VAT existed: its VAT is decided as it ships
            return PLACED_BEFORE_VAT
        return invoicing.note_for(self.vat_rule)

    def __repr__(self) -> str:
        return f"<Order {self.number} {self.status}>"


class OrderLine(Base):
    __tablename__ = "order_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("cancelled_quantity >= 0 AND cancelled_quantity <= quantity", name="cancelled_within_quantity"),
        CheckConstraint("backordered_quantity >= 0 AND backordered_quantity + cancelled_quantity <= quantity",
                        name="backordered_within_quantity"),
        UniqueConstraint("order_id", "position"),
        # A release looks up the lines waiting for its pack sizes: only those, so the index stays small.
        Index("ix_order_line_backordered_variant_id", "variant_id",
              postgresql_where=text("backordered_quantity > 0"), sqlite_where=text("backordered_quantity > 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    position: Mapped[int]
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    # The contract price list that priced the line; None: the public list price or price break.
    price_list_id: Mapped[int | None] = mapped_column(ForeignKey("price_list.id"), index=True)
    line_total: Mapped[Decimal]  # unit price times the units still to be delivered (quantity - cancelled)
    # Units of the line cancelled because they could not be supplied (a short line after a recall); the
    # customer's quantity stays as ordered. A server default, because placing an order inserts lines in Core.
    cancelled_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    # Units of the line waiting for stock (not allocated): the buyer allowed a backorder, or a recall took units
    # that no other lot could replace. A release of a lot allocates them, oldest order first; the buyer may cancel
    # them. A server default, as above.
    backordered_quantity: Mapped[int] = mapped_column(server_default="0")
    # The one lot the buyer pinned the line to, as the lot spells its number; None: any lot (FEFO).
    lot_number: Mapped[str | None] = mapped_column(String(40))

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[Variant] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(back_populates="line", order_by="Allocation.id",
                                                         cascade="all, delete-orphan")

    @property
    def wanted(self) -> int:
        """Units the line is still to deliver: ordered, less what was cancelled."""
        return self.quantity - self.cancelled_quantity

    @property
    def held(self) -> int:
        """Units allocated to the line or shipped from it."""
        return sum(a.quantity for a in self.allocations if a.status.live)

    @property
    def shipped_quantity(self) -> int:
        return sum(a.quantity for a in self.allocations if a.status == AllocationStatus.SHIPPED)

    @property
    def allocated_quantity(self) -> int:
        """Units allocated and not shipped yet: what a shipment may take."""
        return sum(a.quantity for a in self.allocations if a.status == AllocationStatus.ALLOCATED)


class AllocationStatus(enum.StrEnum):
    """Where an allocation's units are. 'Released' is a QC decision about a lot here, so an allocation given
    back is 'returned to stock', with the reason."""

    ALLOCATED = "allocated"  # reserved, still on hand
    SHIPPED = "shipped"  # left the warehouse with the order
    RETURNED_CANCELLED = "returned_cancelled"  # given back: the order was cancelled
    RETURNED_RECALLED = "returned_recalled"  # given back: the lot was recalled

    @property
    def label(self) -> str:
        return _ALLOCATION_LABELS[self]

    @property
    def live(self) -> bool:
        """Whether the units still belong to the order (reserved or shipped)."""
        return self in (AllocationStatus.ALLOCATED, AllocationStatus.SHIPPED)


_ALLOCATION_LABELS = {
    AllocationStatus.ALLOCATED: "allocated",
    AllocationStatus.SHIPPED: "shipped",
    AllocationStatus.RETURNED_CANCELLED: "returned to stock (cancelled)",
    AllocationStatus.RETURNED_RECALLED: "returned to stock (lot recalled)",
}


class Allocation(Base):
    """Which lot an order line draws from: the link that traces a lot to its customers."""

    __tablename__ = "allocation"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"), index=True)
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id"), index=True)
    quantity: Mapped[int]
    status: Mapped[AllocationStatus] = mapped_column(_enum(AllocationStatus, "allocation_status"),
                                                     default=AllocationStatus.ALLOCATED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The shipment that carried the units (status shipped); a shipment of part of an allocation splits it.
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)

    line: Mapped[OrderLine] = relationship(back_populates="allocations")
    stock: Mapped[Stock] = relationship()
    shipment: Mapped[Shipment | None] = relationship(back_populates="allocations")


class Shipment(Base):
    """Units of an order that left the warehouse together: `<order number>-S<sequence>`, with the carrier, its
    tracking reference and who shipped it. Its allocations (status shipped) say which lots and how many units."""

    __tablename__ = "shipment"
    __table_args__ = (UniqueConstraint("order_id", "sequence"),
                      CheckConstraint("sequence > 0", name="sequence_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(30), unique=True)
    carrier: Mapped[str] = mapped_column(String(60), default="")
    tracking_reference: Mapped[str] = mapped_column(String(100))
    shipped_at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    order: Mapped[Order] = relationship(back_populates="shipments")
    staff: Mapped[StaffUser | None] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(back_populates="shipment", order_by="Allocation.id")


class OrderStatusChange(Base):
    __tablename__ = "order_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[OrderStatus | None] = mapped_column(_enum(OrderStatus, "from_status"))
    to_status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus, "to_status"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))  # for a key: its maker
    # The key that made the change (an approval, a rejection, a cancellation); for the placing, see order.api_key_id.
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    order: Mapped[Order] = relationship(back_populates="history")
    staff: Mapped[StaffUser | None] = relationship()
    customer: Mapped[Customer | None] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()

    @property
    def by(self) -> str | None:
        """Who of the company made the change, as its people read it: an API key's name or a person's e-mail;
        None for staff and the system. The first change is the placing, by the order's placer (the order records
        the key that placed it)."""
        if self.staff_id is not None:
            return None
        if self.from_status is None:
            return self.order.placed_by
        member = self.api_key or self.customer
        return member.actor_name if member is not None else None

    @property
    def actor(self) -> str:
        if self.staff is not None:
            return f"staff {self.staff.email}"
        return self.by or "system"


class NoticeKind(enum.StrEnum):
    RECALL = "recall"


class OrderNotice(Base):
    """Something the customer must be told about an order, shown on its pages and in the API (`notices`).

    Recorded once, when it happens, so that e-mail can send it later: `mail_id` names the message that carries
    it, and `sent_at` stays empty until the SMTP server has accepted that message.
    """

    __tablename__ = "order_notice"
    __table_args__ = (UniqueConstraint("order_id", "kind", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind, "notice_kind"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch.id"), index=True)
    lot_number: Mapped[str] = mapped_column(String(40), default="")
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_mail.id", ondelete="SET NULL"), index=True)

    order: Mapped[Order] = relationship(back_populates="notices")


class IdempotencyRecord(Base):
    """The first answer to an Idempotency-Key, kept so retries get it again. A key is the company's: any of its
    members or API keys using it, for any operation, meets the same record."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("company_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
