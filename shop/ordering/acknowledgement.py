"""The order acknowledgement: what we confirmed (each line's product, pack size, units, prices and lots, the totals)
and by when it should leave our warehouse, as a view of frozen dataclasses and as the A4 PDF that the
order.confirmed e-mail carries (shop.events.emails; the outbox keeps the PDF as it was made).

The expected dispatch date is DISPATCH_WITHIN_DAYS business days (Monday to Friday; public holidays are not
known here) after the day of confirmation. No VAT line: the shop charges none yet, so the totals are net.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from reportlab.lib import colors
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from shop.accounts.models import PREPAID
from shop.inventory.models import DateKind
from shop.invoicing.vat import vat_label
from shop.ordering.models import Order, OrderLine
from shop.platform import pdf
from shop.platform.countries import country_name
from shop.platform.pdf import escape
from shop.platform.seller import Seller
from shop.platform.wording import kg, money, payment_terms, units


def dispatch_by(confirmed_on: date, business_days: int) -> date:
    """The day `business_days` working days (Monday to Friday) after `confirmed_on`; with 0, `confirmed_on` itself,
    or the Monday after when it falls on a weekend."""
    day = confirmed_on
    for _ in range(business_days):
        day = _next_working_day(day)
    return day if day.weekday() < 5 else _next_working_day(day)


def _next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class AckLot:
    lot_number: str
    quantity: int
    expires_on: date
    date_kind: DateKind

    def __str__(self) -> str:
        return (f"Lot {self.lot_number}: {units(self.quantity)}, "
                f"{self.date_kind.label.lower()} {self.expires_on.isoformat()}")


@dataclass(frozen=True)
class AckLine:
    product_name: str
    pack_size_kg: Decimal
    sku: str
    quantity: int  # units to deliver (ordered, less any cancelled)
    unit_price: Decimal
    line_total: Decimal
    lots: tuple[AckLot, ...]


@dataclass(frozen=True)
class Acknowledgement:
    number: str
    company: str
    placed_at: datetime
    confirmed_on: date
    dispatch_by: date
    purchase_order: str
    ship_to: tuple[str, ...]
    currency: str
    lines: tuple[AckLine, ...]
    subtotal: Decimal
    total: Decimal
    seller: Seller
    vat_rate: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    vat_note: str = ""  # why a 0 % rate applies
    payment_terms: str = "prepaid"
    awaiting_payment: bool = False  # prepaid and not paid in full: it leaves once paid, whatever dispatch_by says

    @property
    def filename(self) -> str:
        return f"order-acknowledgement-{self.number}.pdf"


def acknowledgement(order: Order, confirmed_on: date) -> Acknowledgement:
    """The acknowledgement of an order (loaded with its lines and lots) confirmed on `confirmed_on`."""
    lines = tuple(AckLine(line.variant.product.name, line.variant.pack_size_kg, line.sku, line.wanted,
                          line.unit_price, line.line_total, _lots(line)) for line in order.lines)
    ship_to = (order.ship_name, order.ship_line1, order.ship_line2,
               f"{order.ship_postal_code} {order.ship_city}", country_name(order.ship_country))
    return Acknowledgement(
        number=order.number, company=order.company.name, placed_at=order.placed_at, confirmed_on=confirmed_on,
        dispatch_by=dispatch_by(confirmed_on, current_app.config["DISPATCH_WITHIN_DAYS"]),
        purchase_order=order.purchase_order, ship_to=tuple(part for part in ship_to if part),
        currency=order.currency, lines=lines, subtotal=order.subtotal, total=order.total,
        seller=Seller.from_config(current_app.config), vat_rate=order.vat_rate, vat=order.vat,
        vat_note=order.vat_note, payment_terms=order.payment_terms,
        awaiting_payment=order.payment_terms == PREPAID and order.total > order.amount_paid)


def _lots(line: OrderLine) -> tuple[AckLot, ...]:
    """The lots of a line, one entry per lot (a shipment splits an allocation into what left and what stays)."""
    held: dict[str, AckLot] = {}
    for a in line.allocations:
        if a.status.live:
            batch, was = a.stock.batch, held.get(a.stock.batch.lot_number)
            held[batch.lot_number] = AckLot(batch.lot_number, a.quantity + (was.quantity if was else 0),
                                            batch.expires_on, batch.date_kind)
    return tuple(held.values())


def acknowledgement_pdf(ack: Acknowledgement) -> bytes:
    """The acknowledgement as an A4 PDF: the seller in the header, 'Page n of N' in the footer."""
    return pdf.render_a4(lambda: _story(ack), lambda canvas, page, pages: _page_frame(canvas, ack, page, pages),
                         title=f"Order acknowledgement {ack.number}", author=ack.seller.legal_name,
                         subject=f"Order {ack.number}, {ack.company}")


def _page_frame(canvas, ack: Acknowledgement, page: int, pages: int) -> None:
    left, right, top = pdf.MARGIN, pdf.WIDTH - pdf.MARGIN, pdf.HEIGHT
    canvas.saveState()
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(left, top - 12 * mm, ack.seller.legal_name)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(left, top - 16 * mm, ack.seller.one_line_address)
    canvas.drawRightString(right, top - 12 * mm, f"Order {ack.number}")
    canvas.drawRightString(right, top - 16 * mm, f"VAT ID {ack.seller.vat_id}")
    canvas.line(left, top - 18 * mm, right, top - 18 * mm)
    canvas.line(left, 16 * mm, right, 16 * mm)
    canvas.drawString(left, 12 * mm, f"{ack.seller.phone} · {ack.seller.email}")
    canvas.drawRightString(right, 12 * mm, f"Page {page} of {pages}")
    canvas.restoreState()


def _story(ack: Acknowledgement) -> list:
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8.5, leading=10.5)
    money_of = lambda amount: money(amount, ack.currency)  # noqa: E731 - one short formatter for the table
    facts = [["Buyer", ack.company, "Placed", ack.placed_at.date().isoformat()],
             ["Ship to", Paragraph("<br/>".join(map(escape, ack.ship_to)), small), "Confirmed",
              ack.confirmed_on.isoformat()],
             ["Your PO reference", ack.purchase_order or "—", "Expected dispatch",
              "once paid in full" if ack.awaiting_payment else ack.dispatch_by.isoformat()],
             ["Payment terms", payment_terms(ack.payment_terms), "", ""]]
    facts_table = Table(facts, colWidths=[32 * mm, 62 * mm, 34 * mm, 46 * mm])
    facts_table.setStyle(TableStyle([("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                                     ("FONTNAME", (2, 0), (2, -1), "Helvetica-Bold"),
                                     ("FONTSIZE", (0, 0), (-1, -1), 9), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    rows = [["Product", "Units", "Unit price", "Line total", "Lots allocated"]]
    for line in ack.lines:
        rows.append([Paragraph(f"{escape(line.product_name)}, {escape(kg(line.pack_size_kg))}<br/>"
                               f"{escape(line.sku)}", small),
                     str(line.quantity), money_of(line.unit_price), money_of(line.line_total),
                     Paragraph("<br/>".join(escape(lot) for lot in line.lots), small)])
    rows += [["Subtotal", "", "", money_of(ack.subtotal), ""],
             [vat_label(ack.vat_rate), "", "", money_of(ack.vat), Paragraph(escape(ack.vat_note), small)],
             ["Total", "", "", money_of(ack.total), "excluding shipping"]]
    lines_table = Table(rows, colWidths=[46 * mm, 14 * mm, 28 * mm, 30 * mm, 56 * mm], repeatRows=1)
    lines_table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f4")),
        ("ALIGN", (1, 0), (3, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#9aa8b1")),
        ("LINEABOVE", (0, -3), (-1, -3), 0.6, colors.HexColor("#9aa8b1"))]))
    return [Paragraph(f"Order acknowledgement {escape(ack.number)}", styles["Title"]), facts_table,
            Spacer(1, 5 * mm), lines_table, Spacer(1, 5 * mm),
            Paragraph(f"We confirm your order {escape(ack.number)} as listed above"
                      + (": it is prepaid, and leaves our warehouse once paid in full (pay against its pro-forma "
                         "invoice). " if ack.awaiting_payment else
                         f" and expect it to leave our warehouse by {ack.dispatch_by.isoformat()}. ")
                      + "Each lot's Certificate of Analysis is on our website; the tracking reference follows when "
                      "the order ships.", styles["BodyText"])]
