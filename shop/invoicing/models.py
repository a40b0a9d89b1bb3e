"""The invoicing tables: VAT rates per country, invoices and credit notes (one table, `kind`), their lines, the
yearly counters of their numbers, and payments."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shop.platform.database import Base, _enum, utcnow
from shop.platform.errors import Conflict

Rate = Numeric(5, 2)  # a VAT rate in percent: 19.00


class VatRule(enum.StrEnum):
    """Why an order bears the VAT it bears (DESIGN.md, "Payment terms, credit and invoices")."""

    DOMESTIC = "domestic"  # ships within the seller's country: its rate
    INTRA_COMMUNITY = "intra_community"  # to another member state, buyer with a VAT ID of one: 0 %, reverse charge
    EXPORT = "export"  # ships outside the EU: 0 %
    EU_OTHER = "eu_other"  # any other sale into the EU (no valid foreign VAT ID): the seller's rate


# What a 0 % invoice must say about why (DESIGN.md; on the PDF, and as the exemption reason BT-120 in the XML).
EXEMPTION_NOTES = {
    VatRule.INTRA_COMMUNITY: "Intra-community supply, exempt under Article 138 of Council Directive 2006/112/EC; "
                             "the customer accounts for the VAT",
    VatRule.EXPORT: "Export delivery, exempt under Article 146 of Council Directive 2006/112/EC",
}


def note_for(rule: str | None) -> str:
    """What a document says of an order's or invoice's VAT rule: the exemption note of a 0 % rule, else ''."""
    return EXEMPTION_NOTES.get(VatRule(rule), "") if rule else ""


class VatRate(Base):
    """A country's VAT rates, as data: the standard rate and any reduced rate (`category` names it)."""

    __tablename__ = "vat_rate"
    __table_args__ = (CheckConstraint("rate >= 0 AND rate < 100", name="rate_in_range"),)

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True, default="standard")
    rate: Mapped[Decimal] = mapped_column(Rate)
    eu_member: Mapped[bool] = mapped_column(default=True)


class DocumentKind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceSequence(Base):
    """The last serial given in a year to a series ("INV" invoices, "CN" credit notes). Counted up under its row
    lock in the issuing transaction: a rolled-back issue gives its serial back, so numbers have no gaps."""

    __tablename__ = "invoice_sequence"

    series: Mapped[str] = mapped_column(String(3), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


TOTALS_ADD_UP = "net >= 0 AND vat >= 0 AND gross = round(net + vat, 2)"
SETTLED_AT_MOST_GROSS = "amount_paid >= 0 AND amount_credited >= 0 AND round(amount_paid + amount_credited, 2) <= gross"


class Invoice(Base):
    """An issued invoice or credit note: never changed once written (the service refuses, and so does the
    database), except what payments and credit notes add up on it (`amount_paid`, `amount_credited`)."""

    __tablename__ = "invoice"
    __table_args__ = (
        UniqueConstraint("kind", "year", "serial"),
        # Sums rounded to cents: SQLite adds decimals as binary floats (12.50 + 2.38 is 14.879999...).
        CheckConstraint(TOTALS_ADD_UP, name="totals_add_up"),
        CheckConstraint(SETTLED_AT_MOST_GROSS, name="settled_at_most_gross"),
        CheckConstraint("(kind = 'credit_note') = (corrects_id IS NOT NULL)", name="credit_note_corrects"),
        # Keyset pagination: a company's documents newest first; staff lists by issue date and by due date.
        Index("ix_invoice_company_id_issued_on_id", "company_id", "issued_on", "id"),
        Index("ix_invoice_issued_on_id", "issued_on", "id"),
        Index("ix_invoice_due_on_id", "due_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, "document_kind"))
    number: Mapped[str] = mapped_column(String(20), unique=True)  # INV-2026-000123, CN-2026-000007
    year: Mapped[int]
    serial: Mapped[int]
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    order_number: Mapped[str] = mapped_column(String(20))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)
    shipment_number: Mapped[str | None] = mapped_column(String(30))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    issued_on: Mapped[date]
    due_on: Mapped[date]
    payment_terms: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str] = mapped_column(String(3))
    buyer_reference: Mapped[str] = mapped_column(String(100), default="")  # the order's purchase-order reference
    # The buyer as invoiced (legal name, VAT ID, billing address) and where the goods went, at the time of issue.
    buyer_name: Mapped[str] = mapped_column(String(200))
    buyer_vat_id: Mapped[str] = mapped_column(String(20), default="")
    buyer_line1: Mapped[str] = mapped_column(String(200), default="")
    buyer_line2: Mapped[str] = mapped_column(String(200), default="")
    buyer_city: Mapped[str] = mapped_column(String(100), default="")
    buyer_postal_code: Mapped[str] = mapped_column(String(20), default="")
    buyer_country: Mapped[str] = mapped_column(String(2), default="")
    ship_country: Mapped[str] = mapped_column(String(2))
    vat_rule: Mapped[VatRule] = mapped_column(_enum(VatRule, "vat_rule"))
    vat_rate: Mapped[Decimal] = mapped_column(Rate)
    net: Mapped[Decimal]
    vat: Mapped[Decimal]
    gross: Mapped[Decimal]
    amount_paid: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), server_default="0")
    amount_credited: Mapped[Decimal] = mapped_column(default=Decimal("0.00"), server_default="0")
    # Who issued it: the staff user who shipped (an invoice) or credited (a credit note); None for a system action.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.position")
    corrects: Mapped[Invoice | None] = relationship(remote_side="Invoice.id")

    @property
    def amount_due(self) -> Decimal:
        return self.gross - self.amount_paid - self.amount_credited


class InvoiceLine(Base):
    """A line of an invoice or credit note: units of a pack size at a unit price, and the lots they came from."""

    __tablename__ = "invoice_line"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint("quantity > 0 AND unit_price >= 0 AND net >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"))
    position: Mapped[int]
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"), index=True)
    sku: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    net: Mapped[Decimal]  # quantity times unit price, rounded half-up to cents
    lot_numbers: Mapped[str] = mapped_column(Text, default="")  # comma-separated, in the order shipped

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class _MoneyMoved:
    """What a payment and a refund both record: money moved for a company's order, on a day, with the bank's
    reference, by which staff member."""

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    amount: Mapped[Decimal]
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(140), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Payment(_MoneyMoved, Base):
    """Money received from a buyer, recorded by finance staff: against an order (prepaid, before any invoice) or
    an invoice (then `order_id` is the invoice's order too)."""

    __tablename__ = "payment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_company_id_paid_on_id", "company_id", "paid_on", "id"),
    )

    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)


class Refund(_MoneyMoved, Base):
    """Money paid back to a buyer, recorded by finance staff: what the order's payments hold that no invoice has
    taken, such as the part of a paid invoice that a credit note gave back."""

    __tablename__ = "refund"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_refund_company_id_paid_on_id", "company_id", "paid_on", "id"),
    )


# What payments and credit notes count up on an issued invoice: the only columns that ever change (migration 0033's
# triggers let the database refuse everything else too).
SETTLED = frozenset({"amount_paid", "amount_credited"})


@event.listens_for(Session, "before_flush")
def _issued_documents_never_change(session: Session, flush_context: object, instances: object) -> None:
    """Refuse (Conflict, before anything is written) a flush that would change or delete an issued invoice or
    credit note, or any of its lines, beyond what it counts as paid and credited."""
    for document in session.dirty:
        if isinstance(document, InvoiceLine) and session.is_modified(document):
            raise _refused(document.invoice)
        if isinstance(document, Invoice) and _changed(document) - SETTLED:
            raise _refused(document)
    for document in session.deleted:
        if isinstance(document, Invoice | InvoiceLine):
            raise _refused(document if isinstance(document, Invoice) else document.invoice)
    for line in session.new:
        if isinstance(line, InvoiceLine) and line.invoice is not None and inspect(line.invoice).persistent:
            raise _refused(line.invoice)


def _changed(document: Invoice) -> set[str]:
    return {attr.key for attr in inspect(document).attrs if attr.history.has_changes()}


def _refused(document: Invoice) -> Conflict:
    return Conflict(f"{document.number} is issued and never changes: a correction is a credit note.")
