"""Invoices and credit notes as the API, the storefront and the staff pages read them: what is due, the status
(`open`, `paid`, `credited`), whether overdue, one document by number, and keyset-paginated lists; one marshmallow
schema serialises a document for the API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import fields, pre_dump
from sqlalchemy import and_, case, false, func, or_, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from shop.accounts.models import Company
from shop.invoicing.einvoice import lot_list
from shop.invoicing.models import DocumentKind, Invoice, Payment, VatRule
from shop.invoicing.numbers import parse_number
from shop.platform.database import utcnow
from shop.platform.errors import NotFound
from shop.platform.extensions import db
from shop.platform.fields import DecimalString, OutSchema

OPEN, PAID, CREDITED = "open", "paid", "credited"
STATUSES = (OPEN, PAID, CREDITED)
ZERO = Decimal("0.00")


def today() -> date:
    """The day (UTC) against which due dates are read."""
    return utcnow().date()


def amount_due(document: Invoice) -> Decimal:
    """What the buyer still owes on it: nothing on a credit note (its amount is settled against its invoice)."""
    return ZERO if document.kind == DocumentKind.CREDIT_NOTE else document.amount_due


def status(document: Invoice) -> str:
    """`open` while anything is due; `credited` when credit notes cancelled all of it (a credit note itself is
    `credited`: it is the credit); else `paid`."""
    if document.kind == DocumentKind.CREDIT_NOTE or document.amount_credited >= document.gross > 0:
        return CREDITED
    return OPEN if amount_due(document) > 0 else PAID


def is_overdue(document: Invoice, on: date | None = None) -> bool:
    """Past its due date (`on`, today by default) with something still due."""
    return document.due_on < (on or today()) and amount_due(document) > 0


def _due_sql():
    return Invoice.gross - Invoice.amount_paid - Invoice.amount_credited


def _status_condition(wanted: str):
    """The SQL condition of `status(document) == wanted`."""
    is_invoice = Invoice.kind == DocumentKind.INVOICE
    fully_credited = and_(Invoice.amount_credited >= Invoice.gross, Invoice.gross > 0)
    if wanted == OPEN:
        return and_(is_invoice, _due_sql() > 0)
    if wanted == CREDITED:
        return or_(Invoice.kind == DocumentKind.CREDIT_NOTE, fully_credited)
    if wanted == PAID:
        return and_(is_invoice, _due_sql() <= 0, ~fully_credited)
    return false()


def document_options() -> tuple:
    """Loader options for documents as lists and pages show them: lines and the corrected invoice's number, each
    one statement for any number of documents."""
    return selectinload(Invoice.lines), joinedload(Invoice.corrects)


def get_document(number: str, company_id: int | None = None) -> Invoice:
    """One invoice or credit note by number; limited to one company's when given (another's: NotFound)."""
    stored = parse_number(number)
    stmt = select(Invoice).where(Invoice.number == stored).options(*document_options())
    if company_id is not None:
        stmt = stmt.where(Invoice.company_id == company_id)
    document = db.session.scalar(stmt) if stored else None  # not a number of ours: no statement
    if document is None:
        raise NotFound(f"No invoice or credit note {number}.")
    return document


def list_documents(*, company_id: int | None = None, status: str | None = None, overdue_on: date | None = None,
                   limit: int = 20, after: tuple[date, int] | None = None) -> list[Invoice]:
    """Invoices and credit notes newest first, keyset-paginated on (issued_on, id): one company's or all (staff),
    of one status, or only those overdue on `overdue_on`; pass the last row's `page_key` as `after`."""
    stmt = (select(Invoice).options(*document_options())
            .order_by(Invoice.issued_on.desc(), Invoice.id.desc()).limit(limit))
    if company_id is not None:
        stmt = stmt.where(Invoice.company_id == company_id)
    if status is not None:
        stmt = stmt.where(_status_condition(status))
    if overdue_on is not None:
        stmt = stmt.where(Invoice.kind == DocumentKind.INVOICE, Invoice.due_on < overdue_on, _due_sql() > 0)
    if after is not None:
        stmt = stmt.where(tuple_(Invoice.issued_on, Invoice.id) < tuple_(*after))
    return list(db.session.scalars(stmt))


def page_key(document: Invoice) -> tuple[date, int]:
    """The sort key of the lists ("invoices" cursors)."""
    return document.issued_on, document.id


class InvoiceLineSchema(OutSchema):
    sku = fields.String(required=True)
    description = fields.String(required=True, metadata={"example": "L-Leucine USP, 25 kg drum"})
    quantity = fields.Integer(required=True, metadata={"description": "Units (packs) invoiced or credited."})
    unit_price = DecimalString(places=2, required=True)
    net = DecimalString(places=2, required=True, metadata={
        "description": "`quantity` × `unit_price`, rounded half-up to cents."})
    lot_numbers = fields.List(fields.String(), required=True, metadata={
        "description": "The lots the units came from, in the order shipped."})

    @pre_dump
    def _lots(self, line: Any, **kwargs: Any) -> dict[str, Any]:
        return {"sku": line.sku, "description": line.description, "quantity": line.quantity,
                "unit_price": line.unit_price, "net": line.net,
                "lot_numbers": lot_list(line)}


class InvoiceSchema(OutSchema):
    number = fields.String(required=True, metadata={"example": "INV-2026-000123"})
    kind = fields.String(required=True, metadata={"enum": [k.value for k in DocumentKind]})
    order = fields.String(required=True, metadata={"description": "The order's number."})
    shipment = fields.String(required=True, allow_none=True, metadata={
        "description": "The shipment the invoice is for; null where none is recorded (and on credit notes "
                       "of a whole invoice without one)."})
    corrects = fields.String(required=True, allow_none=True, metadata={
        "description": "For a credit note: the number of the invoice it corrects; null on an invoice.",
        "example": None})
    issued_on = fields.Date(required=True)
    due_on = fields.Date(required=True, metadata={
        "description": "Issue date plus the payment terms' days (the issue date when prepaid)."})
    currency = fields.String(required=True, metadata={"example": "EUR"})
    lines = fields.List(fields.Nested(InvoiceLineSchema), required=True)
    net = DecimalString(places=2, required=True, metadata={"description": "The sum of the lines' `net`."})
    vat_rule = fields.String(required=True, metadata={"enum": [r.value for r in VatRule]})
    vat_rate = DecimalString(places=2, required=True, metadata={"description": "Percent.", "example": "19.00"})
    vat = DecimalString(places=2, required=True, metadata={
        "description": "`vat_rate` of `net`, rounded half-up to cents once (EN 16931 BR-CO-17)."})
    gross = DecimalString(places=2, required=True, metadata={"description": "`net` + `vat`."})
    amount_paid = DecimalString(places=2, required=True, metadata={
        "description": "Payments recorded against it (or taken from money paid ahead), less what a credit note of "
                       "it gave back of them: that money is the order's again, for its next invoice or a refund."})
    amount_due = DecimalString(places=2, required=True, metadata={
        "description": "`gross` less payments and credit notes; always 0.00 on a credit note."})
    status = fields.String(required=True, metadata={
        "enum": list(STATUSES),
        "description": "`open` while anything is due, `paid` once nothing is, `credited` when credit notes "
                       "cancelled all of it; a credit note is `credited`."})
    overdue = fields.Boolean(required=True, metadata={"description": "Past `due_on` (UTC) with something due."})

    @pre_dump
    def _read(self, document: Invoice, **kwargs: Any) -> dict[str, Any]:
        return {"number": document.number, "kind": document.kind.value, "order": document.order_number,
                "shipment": document.shipment_number, "corrects": document.corrects.number if document.corrects
                else None, "issued_on": document.issued_on, "due_on": document.due_on,
                "currency": document.currency, "lines": document.lines, "net": document.net,
                "vat_rule": document.vat_rule.value, "vat_rate": document.vat_rate, "vat": document.vat,
                "gross": document.gross, "amount_paid": document.amount_paid, "amount_due": amount_due(document),
                "status": status(document), "overdue": is_overdue(document)}


@dataclass(frozen=True)
class DocumentPage:
    """One document as the staff page shows it: with the payments against it and the credit notes of it."""

    document: Invoice
    payments: list[Payment]
    credit_notes: list[Invoice]


def document_page(number: str) -> DocumentPage:
    """A document with its payments and credit notes: three statements."""
    document = get_document(number)
    payments = db.session.scalars(select(Payment).where(Payment.invoice_id == document.id)
                                  .order_by(Payment.paid_on, Payment.id))
    notes = db.session.scalars(select(Invoice).where(Invoice.corrects_id == document.id).order_by(Invoice.id))
    return DocumentPage(document, list(payments), list(notes))


def invoiced_companies() -> list[tuple[int, str]]:
    """(id, name) of every company that was issued a document, by name: the staff list's company filter."""
    return [tuple(row) for row in db.session.execute(
        select(Company.id, Company.name).where(select(Invoice.id).where(Invoice.company_id == Company.id).exists())
        .order_by(Company.name, Company.id))]


@dataclass(frozen=True)
class Owed:
    """What a company still owes on its invoices, and how much of it is overdue."""

    due: Decimal
    overdue: Decimal


def owed(company_id: int, on: date | None = None) -> Owed:
    """What the company owes on `on` (today): one statement."""
    on = on or today()
    due = _due_sql()
    row = db.session.execute(
        select(func.coalesce(func.sum(due), 0), func.coalesce(func.sum(case((Invoice.due_on < on, due), else_=0)), 0))
        .where(Invoice.company_id == company_id, Invoice.kind == DocumentKind.INVOICE, due > 0)).one()
    return Owed(Decimal(row[0]), Decimal(row[1]))
