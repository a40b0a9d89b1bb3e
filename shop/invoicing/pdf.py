"""Invoice, credit note and pro-forma PDFs, laid out as the CoA and the order acknowledgement are (the seller in the
header, contact and bank in the footer, "Page n of N").

An invoice or credit note PDF is a Factur-X document of profile EN 16931: PDF/A-3 with its CII XML (einvoice.py)
embedded as `factur-x.xml`, made by the `factur-x` package from the PDF reportlab draws. PDF/A wants every font
embedded (the text is set in the Bitstream Vera fonts that reportlab ships) and the colours' meaning declared (an
sRGB output intent, added with pikepdf, as neither reportlab nor factur-x adds one). A pro-forma is
no tax invoice: a plain PDF that asks for payment in advance, quoting the order number.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from io import BytesIO

import facturx
import pikepdf
from PIL import ImageCms
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from shop.invoicing.einvoice import amount_due, cii_xml, lot_list, paid_in_advance, payment_terms_text, terms_label
from shop.invoicing.models import EXEMPTION_NOTES, DocumentKind, Invoice, VatRule
from shop.platform import pdf as a4
from shop.platform.countries import country_name
from shop.platform.pdf import escape
from shop.platform.seller import Seller
from shop.platform.wording import money

FONT, BOLD = "Vera", "VeraBd"
GRID = colors.HexColor("#9aa8b1")
HEADING_BACKGROUND = colors.HexColor("#eef2f4")
NOTICE = colors.HexColor("#fff4e5")
# reportlab's frame keeps 6 pt of padding on each side inside the margins: tables this wide line up with the text.
FRAME_WIDTH = a4.TEXT_WIDTH - 12
TITLES = {DocumentKind.INVOICE: "Invoice", DocumentKind.CREDIT_NOTE: "Credit note"}


@dataclass(frozen=True)
class Party:
    """Whom a document is addressed to: legal name, postal address lines (country last) and VAT ID."""

    name: str
    address: tuple[str, ...]
    vat_id: str = ""

    @classmethod
    def buyer_of(cls, document: Invoice) -> Party:
        country = document.buyer_country or document.ship_country
        town = " ".join(part for part in (document.buyer_postal_code, document.buyer_city) if part)
        lines = (document.buyer_line1, document.buyer_line2, town, country_name(country) if country else "")
        return cls(document.buyer_name, tuple(line for line in lines if line), document.buyer_vat_id)


@dataclass(frozen=True)
class ProFormaLine:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    net: Decimal


@dataclass(frozen=True)
class ProForma:
    """What a prepaid order asks to be paid before it ships: its lines and totals as placed (VAT included)."""

    order_number: str
    placed_on: date
    buyer: Party
    lines: tuple[ProFormaLine, ...]
    net: Decimal
    vat_rule: VatRule
    vat_rate: Decimal
    vat: Decimal
    gross: Decimal
    currency: str
    buyer_reference: str = ""


def invoice_pdf(document: Invoice, seller: Seller) -> bytes:
    """The invoice or credit note as a Factur-X (EN 16931) PDF/A-3 with its XML embedded as factur-x.xml."""
    title = f"{TITLES[document.kind]} {document.number}"
    _register_fonts()
    drawn = a4.render_a4(lambda: _invoice_story(document, seller),
                         lambda canvas, page, pages: _page_frame(canvas, seller, title, page, pages),
                         title=title, author=seller.legal_name, subject=f"{title}, order {document.order_number}",
                         font=FONT)
    metadata = {"author": seller.legal_name, "title": title, "keywords": "Factur-X, EN 16931, invoice",
                "subject": f"{title} of {document.issued_on.isoformat()} to {document.buyer_name}"}
    return facturx.generate_from_binary(_with_srgb_output_intent(drawn), cii_xml(document, seller),
                                        flavor="factur-x", level="en16931", check_xsd=True, pdf_metadata=metadata,
                                        lang="en-GB")


def proforma_pdf(proforma: ProForma, seller: Seller) -> bytes:
    """The pro-forma invoice of a prepaid order: not a tax invoice, no invoice number; pay quoting the order."""
    title = f"Pro-forma invoice for order {proforma.order_number}"
    _register_fonts()
    return a4.render_a4(lambda: _proforma_story(proforma, seller),
                        lambda canvas, page, pages: _page_frame(canvas, seller, title, page, pages),
                        title=title, author=seller.legal_name, subject=f"{title}, {proforma.buyer.name}", font=FONT)


def _with_srgb_output_intent(drawn: bytes) -> bytes:
    """The PDF with an sRGB output intent (PDF/A: reportlab paints in device RGB, which must say what it means)."""
    with pikepdf.open(BytesIO(drawn)) as document:
        profile = document.make_stream(_srgb_profile(), N=3)
        document.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1, OutputConditionIdentifier="sRGB IEC61966-2.1",
            Info="sRGB IEC61966-2.1", DestOutputProfile=profile)])
        out = BytesIO()
        document.save(out)
    return out.getvalue()


@lru_cache(maxsize=1)
def _srgb_profile() -> bytes:
    """The sRGB ICC profile, as Pillow's colour management (LittleCMS) builds it."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _page_frame(canvas, seller: Seller, title: str, page: int, pages: int) -> None:
    """The seller and the document in the header; contact, bank account and 'Page n of N' in the footer."""
    left, right, top = a4.MARGIN, a4.WIDTH - a4.MARGIN, a4.HEIGHT
    canvas.saveState()
    canvas.setFont(BOLD, 9)
    canvas.drawString(left, top - 12 * mm, seller.legal_name)
    canvas.drawRightString(right, top - 12 * mm, title)
    canvas.setFont(FONT, 8)
    canvas.drawString(left, top - 16 * mm, seller.one_line_address)
    canvas.drawRightString(right, top - 16 * mm, f"VAT ID {seller.vat_id}")
    canvas.setStrokeColor(GRID)
    canvas.line(left, top - 18 * mm, right, top - 18 * mm)
    canvas.line(left, 17 * mm, right, 17 * mm)
    canvas.drawString(left, 13 * mm, f"{seller.phone} · {seller.email}")
    canvas.drawString(left, 9 * mm, f"Bank account: IBAN {seller.iban_grouped} · BIC {seller.bic}")
    canvas.drawRightString(right, 13 * mm, f"Page {page} of {pages}")
    canvas.restoreState()


def _invoice_story(document: Invoice, seller: Seller) -> list[Flowable]:
    styles = _styles()
    story = [Paragraph(f"{TITLES[document.kind]} {escape(document.number)}", styles["title"]),
             _addressee(Party.buyer_of(document), _invoice_facts(document), styles), Spacer(1, 6 * mm),
             _lines_table([(line.position, line) for line in document.lines], document.currency, styles,
                          with_lots=True),
             _totals_table(document.net, document.vat_rate, document.vat, document.gross, document.currency,
                           _total_label(document), styles), Spacer(1, 5 * mm)]
    story += _vat_note(VatRule(document.vat_rule), styles)
    story.append(Paragraph(_settlement_words(document, seller), styles["body"]))
    story += [Spacer(1, 4 * mm), Paragraph(
        "This PDF is a Factur-X e-invoice (profile EN 16931): its data is embedded as factur-x.xml, for your "
        "accounting system to read without typing.", styles["small"])]
    return story


def _invoice_facts(document: Invoice) -> list[tuple[str, str]]:
    """Dates, terms and references beside the address (a credit note names its invoice and has no terms)."""
    credit = document.kind == DocumentKind.CREDIT_NOTE
    facts = [("Date of issue", document.issued_on.isoformat())]
    if credit and document.corrects is not None:
        facts.append(("Corrects invoice", document.corrects.number))
    facts.append(("Delivery date", (document.corrects or document).issued_on.isoformat()))
    if not credit:
        facts += [("Payment terms", terms_label(document.payment_terms)), ("Due date", document.due_on.isoformat())]
    facts += [("Our order", document.order_number), ("Your reference", document.buyer_reference or "—")]
    if document.shipment_number:
        facts.append(("Shipment", document.shipment_number))
    return facts


def _proforma_story(proforma: ProForma, seller: Seller) -> list[Flowable]:
    styles = _styles()
    facts = [("Order", proforma.order_number), ("Placed", proforma.placed_on.isoformat()),
             ("Your reference", proforma.buyer_reference or "—"), ("Payment terms", "Prepaid")]
    notice = _table([[Paragraph("<b>Pro-forma invoice — not a tax invoice.</b> It asks for payment in advance; "
                                "the invoice follows when the goods ship.", styles["body"])]], [FRAME_WIDTH],
                    [("BACKGROUND", (0, 0), (-1, -1), NOTICE), ("BOX", (0, 0), (-1, -1), 0.6, GRID)])
    story = [Paragraph(f"Pro-forma invoice for order {escape(proforma.order_number)}", styles["title"]), notice,
             Spacer(1, 5 * mm), _addressee(proforma.buyer, facts, styles), Spacer(1, 6 * mm),
             _lines_table(list(enumerate(proforma.lines, start=1)), proforma.currency, styles, with_lots=False),
             _totals_table(proforma.net, proforma.vat_rate, proforma.vat, proforma.gross, proforma.currency,
                           "Total to pay", styles), Spacer(1, 5 * mm)]
    story += _vat_note(VatRule(proforma.vat_rule), styles)
    story.append(Paragraph(
        f"Please pay <b>{escape(money(proforma.gross, proforma.currency))}</b> by bank transfer to "
        f"{_bank_words(seller)}, quoting <b>{escape(proforma.order_number)}</b> as the reference. We ship the "
        "order once the payment has arrived in full.", styles["body"]))
    return story


def _addressee(buyer: Party, facts: Sequence[tuple[str, str]], styles) -> Table:
    """The buyer's address block on the left, the document's dates and references on the right."""
    address = [f"<b>{escape(buyer.name)}</b>", *map(escape, buyer.address)]
    if buyer.vat_id:
        address.append(f"VAT ID {escape(buyer.vat_id)}")
    fact_rows = _table([[Paragraph(escape(label), styles["label"]), Paragraph(escape(value), styles["body"])]
                        for label, value in facts], [35 * mm, 47 * mm],
                       [("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 1),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])
    bill_to = [Paragraph("Bill to", styles["label"]), Paragraph("<br/>".join(address), styles["body"])]
    return _table([[bill_to, fact_rows]], [FRAME_WIDTH - 82 * mm, 82 * mm],
                  [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0),
                   ("RIGHTPADDING", (-1, 0), (-1, 0), 0)])


def _lines_table(lines: Sequence[tuple[int, object]], currency: str, styles, *, with_lots: bool) -> Table:
    """Position, item (description, SKU and lots), units, unit price and net amount of each (position, line)."""
    rows = [["Pos.", "Item", "Units", "Unit price", "Net amount"]]
    for position, line in lines:
        item = f"{escape(line.description)}<br/><font size=7.5 color='#4a5a64'>SKU {escape(line.sku)}"
        lots = lot_list(line) if with_lots else []
        if lots:
            item += f" · lot{'s' if len(lots) > 1 else ''} {escape(', '.join(lots))}"
        rows.append([str(position), Paragraph(item + "</font>", styles["cell"]), str(line.quantity),
                     money(line.unit_price, currency), money(line.net, currency)])
    return _table(rows, [12 * mm, FRAME_WIDTH - 86 * mm, 16 * mm, 29 * mm, 29 * mm], [
        ("FONTNAME", (0, 0), (-1, 0), BOLD), ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), HEADING_BACKGROUND), ("ALIGN", (2, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID)], repeatRows=1)


def _totals_table(net: Decimal, rate: Decimal, vat: Decimal, gross: Decimal, currency: str, total_label: str,
                  styles) -> Flowable:
    """Net, VAT at the rate, and the total, right-aligned under the lines' amounts."""
    rows = [["Net total", money(net, currency)], [f"VAT {rate:.2f} %", money(vat, currency)],
            [total_label, money(gross, currency)]]
    table = _table(rows, [45 * mm, 29 * mm], [
        ("FONTNAME", (0, -1), (-1, -1), BOLD), ("FONTSIZE", (0, 0), (-1, -1), 9), ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black), ("BACKGROUND", (0, -1), (-1, -1), HEADING_BACKGROUND)],
        hAlign="RIGHT")
    return KeepTogether([Spacer(1, 2 * mm), table])


def _table(rows: list, widths: list[float], style: list[tuple], **options) -> Table:
    """A table in the embedded font: a table sets its cells' font even around paragraphs, Helvetica unless told."""
    table = Table(rows, colWidths=widths, **options)
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *style]))
    return table


def _vat_note(rule: VatRule, styles) -> list[Flowable]:
    """Why a 0 % document bears no VAT (the exemption the buyer's accounts need to see)."""
    if rule not in EXEMPTION_NOTES:
        return []
    return [Paragraph(f"<b>VAT:</b> {escape(EXEMPTION_NOTES[rule])}.", styles["body"]), Spacer(1, 2 * mm)]


def _total_label(document: Invoice) -> str:
    if document.kind == DocumentKind.CREDIT_NOTE:
        return "Total credited"
    return "Total, paid in advance" if paid_in_advance(document) else "Total due"


def _settlement_words(document: Invoice, seller: Seller) -> str:
    """What the buyer is to do: pay, nothing (paid in advance), or count the credit."""
    if document.kind == DocumentKind.CREDIT_NOTE:
        return _credit_words(document)
    if not amount_due(document):
        return escape(payment_terms_text(document)) + "."
    return _pay_invoice_words(document, seller)


def _pay_invoice_words(document: Invoice, seller: Seller) -> str:
    return (f"Please pay <b>{escape(money(document.gross, document.currency))}</b> by "
            f"{document.due_on.isoformat()} to {_bank_words(seller)}, quoting <b>{escape(document.number)}</b> "
            "as the reference.")


def _credit_words(document: Invoice) -> str:
    corrected = document.corrects.number if document.corrects is not None else "the invoice"
    return (f"We credit you <b>{escape(money(document.gross, document.currency))}</b> against "
            f"{escape(corrected)}: it is set off against what you owe us, or refunded to your account.")


def _bank_words(seller: Seller) -> str:
    return (f"{escape(seller.legal_name)}, IBAN <b>{escape(seller.iban_grouped)}</b>, "
            f"BIC {escape(seller.bic)}")


def _styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles, in the embedded fonts."""
    base = getSampleStyleSheet()
    body = base["BodyText"].clone("invoice-body", fontName=FONT, fontSize=9, leading=12)
    return {"title": base["Title"].clone("invoice-title", fontName=BOLD, fontSize=16, alignment=0,
                                         spaceAfter=5 * mm),
            "body": body, "cell": body.clone("invoice-cell", fontSize=8.5, leading=10.5),
            "label": body.clone("invoice-label", fontName=BOLD, textColor=colors.HexColor("#4a5a64")),
            "small": body.clone("invoice-small", fontSize=7.5, leading=9.5, textColor=colors.HexColor("#4a5a64"))}


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    """Bitstream Vera, which reportlab ships as TrueType, so that the PDF embeds its fonts (the standard
    Helvetica is never embedded, and PDF/A refuses fonts it does not carry)."""
    faces = {"Vera": "Vera.ttf", "VeraBd": "VeraBd.ttf", "VeraIt": "VeraIt.ttf", "VeraBI": "VeraBI.ttf"}
    for name, file in faces.items():
        pdfmetrics.registerFont(TTFont(name, file))
    pdfmetrics.registerFontFamily(FONT, normal="Vera", bold="VeraBd", italic="VeraIt", boldItalic="VeraBI")
