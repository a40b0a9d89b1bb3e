"""Issuing invoices and credit notes: numbered in their series, totalled by money.py, written once.

The caller (fulfilment, when a shipment leaves) hands over the facts as they are at the time of issue: who is
invoiced, for which order and shipment, on what terms and VAT, and the lines with their lots. Nothing here reads an
order. A credit note corrects an issued invoice, for all of it or some units of some lines; it never credits more
than was invoiced, line by line. What it credits beyond what is still due was paid already: that part leaves the
invoice's `amount_paid` and is the order's unapplied money again (taken by the order's next invoice, or refunded:
payments.record_refund)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import Numeric, column, func, select, table, type_coerce

from shop.accounts.models import PREPAID
from shop.invoicing.models import DocumentKind, Invoice, InvoiceLine, Payment, Refund, VatRule
from shop.invoicing.money import cents, line_net, totals
from shop.invoicing.numbers import CREDIT_NOTE, INVOICE, format_number, next_serial, parse_number
from shop.invoicing.views import InvoiceSchema
from shop.platform import outbox
from shop.platform.audit import audit
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.wording import money

# Who placed an order, read by table name: ordering sits above invoicing and imports it, not the other way round.
_ORDER = table("order", column("id"), column("customer_id"))


@dataclass(frozen=True)
class Party:
    """The buyer as invoiced: legal name, VAT ID and billing address at the time of issue."""

    name: str
    vat_id: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class InvoiceFacts:
    """What an invoice says besides its lines, as the order and shipment say it when the goods leave."""

    company_id: int
    buyer: Party
    order_id: int
    order_number: str
    purchase_order: str
    payment_terms: str  # prepaid, or net_<days>
    currency: str
    vat_rule: VatRule
    vat_rate: Decimal
    ship_country: str
    shipment_id: int | None = None
    shipment_number: str | None = None
    staff_id: int | None = None  # who shipped (and so issued) it


@dataclass(frozen=True)
class LineFacts:
    """Units of one order line on the invoice, at its unit price, and the lots they came from."""

    order_line_id: int | None
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    lot_numbers: tuple[str, ...] = ()


def due_date(issued_on: date, payment_terms: str) -> date:
    """The day the invoice falls due: the issue date for prepaid, else that many days after it (net_30)."""
    if payment_terms == PREPAID:
        return issued_on
    return issued_on + timedelta(days=int(payment_terms.removeprefix("net_")))


def issue_invoice(facts: InvoiceFacts, lines: Sequence[LineFacts], on: date) -> Invoice:
    """Issue the invoice: the next number of the year's series, the lines and totals, the due date. What the buyer
    paid ahead against the order (prepaid) and no invoice has taken yet is applied to it, up to its gross. The
    caller holds the order's lock and commits (a rollback gives the number back)."""
    if not lines:
        raise ValueError(f"an invoice of order {facts.order_number} needs at least one line")
    invoice = Invoice(
        kind=DocumentKind.INVOICE, **_numbered(INVOICE, on), company_id=facts.company_id,
        order_id=facts.order_id, order_number=facts.order_number, shipment_id=facts.shipment_id,
        shipment_number=facts.shipment_number, issued_on=on, due_on=due_date(on, facts.payment_terms),
        payment_terms=facts.payment_terms, currency=facts.currency, buyer_reference=facts.purchase_order,
        **_buyer_columns(facts.buyer), ship_country=facts.ship_country, vat_rule=facts.vat_rule,
        vat_rate=facts.vat_rate, staff_id=facts.staff_id,
        lines=[InvoiceLine(position=n, order_line_id=line.order_line_id, sku=line.sku, description=line.description,
                           quantity=line.quantity, unit_price=line.unit_price,
                           net=line_net(line.quantity, line.unit_price), lot_numbers=", ".join(line.lot_numbers))
               for n, line in enumerate(lines, start=1)])
    _total(invoice)
    invoice.amount_paid = min(unapplied_payments(facts.order_id), invoice.gross)
    db.session.add(invoice)
    db.session.flush()
    _announce(invoice)
    return invoice


def unapplied_payments(order_id: int) -> Decimal:
    """What was paid against the order and no invoice of it has taken yet: all its payments less what its invoices
    count as paid (a payment against an invoice counts on both sides, so only money paid ahead remains)."""
    applied = db.session.scalar(select(func.coalesce(func.sum(Invoice.amount_paid), 0))
                                .where(Invoice.order_id == order_id, Invoice.kind == DocumentKind.INVOICE))
    return paid_for_order(order_id) - Decimal(applied)


def paid_for_order(order_id: int) -> Decimal:
    """Everything paid for the order and kept: its payments, ahead or against its invoices, less its refunds."""
    paid = select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.order_id == order_id).scalar_subquery()
    refunded = (select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.order_id == order_id)
                .scalar_subquery())
    return cents(Decimal(db.session.scalar(select(type_coerce(paid - refunded, Numeric(14, 2))))))


def get_document(number: str, company_id: int | None = None, *, lock: bool = False) -> Invoice:
    """An invoice or credit note by its number (in any case), of that company when given; NotFound otherwise."""
    stored = parse_number(number)
    stmt = select(Invoice).where(Invoice.number == stored)
    if company_id is not None:
        stmt = stmt.where(Invoice.company_id == company_id)
    if lock:
        stmt = stmt.with_for_update(of=Invoice).execution_options(populate_existing=True)
    document = db.session.scalar(stmt) if stored else None
    if document is None:
        raise NotFound(f"No invoice {number}.")
    return document


def issue_credit_note(invoice_number: str, lines: Mapping[int, object] | None, on: date,
                      staff_id: int | None = None) -> Invoice:
    """Credit units of an invoice: every unit not credited yet (`lines` None), or {line position: units}. Refused
    with InvalidInput, nothing written, when a line is unknown, or a quantity is not a positive whole number or more
    than is left to credit on its line."""
    invoice = get_document(invoice_number, lock=True)
    if invoice.kind != DocumentKind.INVOICE:
        raise InvalidInput({"invoice": [f"{invoice.number} is a credit note: only an invoice can be credited."]})
    credited = _credited_per_position(invoice.id)
    left = {line.position: line.quantity - credited.get(line.position, 0) for line in invoice.lines}
    wanted = _credited_quantities(invoice, lines, left)
    note = Invoice(
        kind=DocumentKind.CREDIT_NOTE, **_numbered(CREDIT_NOTE, on), corrects=invoice, issued_on=on, due_on=on,
        staff_id=staff_id, **{column: getattr(invoice, column) for column in _COPIED},
        lines=[InvoiceLine(position=line.position, order_line_id=line.order_line_id, sku=line.sku,
                           description=line.description, quantity=wanted[line.position], unit_price=line.unit_price,
                           net=line_net(wanted[line.position], line.unit_price), lot_numbers=line.lot_numbers)
               for line in invoice.lines if line.position in wanted])
    _total(note)
    if wanted == {position: units for position, units in left.items() if units > 0}:
        _take_the_rest_of_the_vat(note, invoice)
    # What the note credits beyond what is still due was paid already: it leaves the invoice and is the order's
    # money again, which a later invoice of the order takes, or finance refunds (payments.record_refund).
    invoice.amount_paid -= max(note.gross - invoice.amount_due, Decimal("0.00"))
    invoice.amount_credited += note.gross
    db.session.add(note)
    db.session.flush()
    audit(staff_id, "credit_note.issued", f"credit note {note.number} of order {invoice.order_number}",
          f"credits {invoice.number}: {money(note.gross, note.currency)}")
    _announce(note)
    return note


# What a credit note says as its invoice says it: the same buyer, order, shipment, terms, currency and VAT.
_COPIED = ("company_id", "order_id", "order_number", "shipment_id", "shipment_number", "payment_terms", "currency",
           "buyer_reference", "buyer_name", "buyer_vat_id", "buyer_line1", "buyer_line2", "buyer_city",
           "buyer_postal_code", "buyer_country", "ship_country", "vat_rule", "vat_rate")


def _announce(document: Invoice) -> None:
    """invoice.issued (an invoice or a credit note, `kind` says which): to the company through the member who
    placed the order, as its order events go, with the document as the API shows it once the issue commits."""
    orderer = db.session.scalar(select(_ORDER.c.customer_id).where(_ORDER.c.id == document.order_id))
    outbox.announce(outbox.Event("invoice.issued", lambda: InvoiceSchema().dump(document), orderer,
                                 document.number))


def _numbered(series: str, on: date) -> dict[str, object]:
    serial = next_serial(series, on.year)
    return {"number": format_number(series, on.year, serial), "year": on.year, "serial": serial}


def _buyer_columns(buyer: Party) -> dict[str, str]:
    return {"buyer_name": buyer.name, "buyer_vat_id": buyer.vat_id, "buyer_line1": buyer.line1,
            "buyer_line2": buyer.line2, "buyer_city": buyer.city, "buyer_postal_code": buyer.postal_code,
            "buyer_country": buyer.country}


def _total(document: Invoice) -> None:
    """The document's net, VAT and gross from its lines (BR-CO-17: VAT on the sum of the line nets)."""
    document_totals = totals((line.net for line in document.lines), document.vat_rate)
    document.net, document.vat, document.gross = document_totals.net, document_totals.vat, document_totals.gross


def _credited_per_position(invoice_id: int) -> dict[int, int]:
    """Units credited so far on each line of the invoice (a credit note's line keeps its invoice line's position)."""
    rows = db.session.execute(
        select(InvoiceLine.position, func.sum(InvoiceLine.quantity)).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.corrects_id == invoice_id).group_by(InvoiceLine.position))
    return {position: int(units) for position, units in rows}


def _credited_quantities(invoice: Invoice, lines: Mapping[int, object] | None,
                         left: Mapping[int, int]) -> dict[int, int]:
    """{position: units} the credit note takes, checked against what each line has `left` to credit."""
    if lines is None:
        wanted = {position: units for position, units in left.items() if units > 0}
        if not wanted:
            raise InvalidInput({"lines": [f"Everything on {invoice.number} has been credited already."]})
        return wanted
    errors: dict[str, list[str]] = {}
    for position, units in lines.items():
        problem = _quantity_problem(position, units, left)
        if problem:
            errors[f"lines.{position}.quantity"] = [problem]
    if not lines:
        errors["lines"] = ["Choose at least one line to credit."]
    if errors:
        raise InvalidInput(errors)
    return dict(lines)  # type: ignore[arg-type]  (each checked to be a whole number above)


def _take_the_rest_of_the_vat(note: Invoice, invoice: Invoice) -> None:
    """The credit note that credits the last units of the invoice takes the VAT the earlier ones left, so that the
    notes add up to the invoice exactly: each note's VAT rounded on its own could otherwise overshoot by a cent
    (12.50 + 12.50 at 19 %: 2.38 + 2.38 against the invoice's 4.75). EN 16931 allows a VAT amount that far from
    its rate (BR-CO-17); the nets add up exactly anyway, being whole units at the same prices."""
    earlier = select(func.coalesce(func.sum(Invoice.vat), 0)).where(Invoice.corrects_id == invoice.id)
    note.vat = invoice.vat - Decimal(db.session.scalar(earlier))
    note.gross = note.net + note.vat


def _quantity_problem(position: object, units: object, left: Mapping[int, int]) -> str | None:
    if position not in left:
        return f"The invoice has no line {position}."
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        return "Write a whole number of units, at least 1."
    if units > left[position]:  # type: ignore[index]
        return (f"Only {left[position]} units of line {position} are left to credit "  # type: ignore[index]
                "(invoiced, less earlier credit notes).")
    return None

