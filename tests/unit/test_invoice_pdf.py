"""#24 invoice PDFs: every invoice and credit note PDF is a Factur-X PDF/A-3 carrying the very XML that cii_xml
makes as factur-x.xml, in embedded fonts, and shows a reader what they need (parties, lines and lots, VAT and its
note, totals, due date, the bank account); a pro-forma asks for payment in advance and is no tax invoice. Each is
rendered to screenshots/ as a reader sees it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from shop.invoicing.einvoice import cii_xml
from shop.invoicing.models import EXEMPTION_NOTES, VatRule
from shop.invoicing.pdf import Party, ProForma, ProFormaLine, invoice_pdf, proforma_pdf
from tests.support.invoices import SELLER, Line, make_credit_note, make_document, pdf_to_png

DOCUMENTS = {
    "invoice-domestic": lambda: make_document(VatRule.DOMESTIC),
    "invoice-intra-community": lambda: make_document(VatRule.INTRA_COMMUNITY),
    "invoice-export": lambda: make_document(VatRule.EXPORT),
    "invoice-eu-other": lambda: make_document(VatRule.EU_OTHER),
    "invoice-prepaid": lambda: make_document(VatRule.DOMESTIC, payment_terms="prepaid"),
    "credit-note-whole": lambda: make_credit_note(make_document(VatRule.DOMESTIC)),
    "credit-note-partial": lambda: make_credit_note(make_document(VatRule.INTRA_COMMUNITY), {2: 1}),
}
PDFAID = {"pdfaid": "http://www.aiim.org/pdfa/ns/id/"}
PROFORMA = ProForma(
    order_number="ORD-2026-00042", placed_on=date(2026, 3, 1),
    buyer=Party("Bäckerei Süß & Söhne KG", ("Mühlenweg 3", "50667 Köln", "Germany"), "DE136695976"),
    lines=(ProFormaLine("LEU-25KG", "L-Leucine, food grade, 25 kg drum", 4, Decimal("412.50"), Decimal("1650.00")),
           ProFormaLine("VAL-1KG", "L-Valine, food grade, 1 kg bag", 12, Decimal("24.35"), Decimal("292.20"))),
    net=Decimal("1942.20"), vat_rule=VatRule.DOMESTIC, vat_rate=Decimal("19.00"), vat=Decimal("369.02"),
    gross=Decimal("2311.22"), currency="EUR", buyer_reference="PO-4711")


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages)


def _pdfa_identification(pdf: bytes) -> tuple[str, str]:
    """The PDF/A part and conformance level the document's XMP metadata claims."""
    xmp = etree.fromstring(PdfReader(BytesIO(pdf)).trailer["/Root"]["/Metadata"].get_object().get_data())
    return tuple(xmp.xpath(f"string((//pdfaid:{name} | //@pdfaid:{name})[1])", namespaces=PDFAID)
                 for name in ("part", "conformance"))


def _fonts_not_embedded(pdf: bytes) -> list[str]:
    missing = []
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor")
            if descriptor is None or not any(key in descriptor.get_object()
                                             for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                missing.append(str(font["/BaseFont"]))
    return missing


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_each_pdf_is_a_factur_x_pdf_a3_carrying_its_xml(kind):
    document = DOCUMENTS[kind]()
    pdf = invoice_pdf(document, SELLER)
    filename, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert (filename, xml) == ("factur-x.xml", cii_xml(document, SELLER))
    assert _pdfa_identification(pdf) == ("3", "B")
    intents = PdfReader(BytesIO(pdf)).trailer["/Root"]["/OutputIntents"]
    assert [(i.get_object()["/S"], "/DestOutputProfile" in i.get_object()) for i in intents] == [("/GTS_PDFA1", True)]
    assert _fonts_not_embedded(pdf) == []
    assert pdf_to_png(pdf, f"invoice-pdf-{kind}").stat().st_size > 10_000


def test_an_invoice_shows_parties_lines_lots_totals_due_date_and_bank():
    text = _text(invoice_pdf(make_document(VatRule.DOMESTIC), SELLER))
    for shown in ("Invoice INV-2026-000001", "Leucin-Werk Rheinau GmbH", "VAT ID DE815204576",
                  "Bäckerei Süß & Söhne KG", "VAT ID DE136695976", "PO-4711", "ORD-2026-00042",
                  "SKU ILE-5KG · lots I2026-0107, I2026-0119", "569.70 EUR", "Net total 2,511.90 EUR",
                  "VAT 19.00 % 477.26 EUR", "Total due 2,989.16 EUR", "Due date 2026-04-01",
                  "Please pay 2,989.16 EUR by 2026-04-01", "IBAN DE89 3704 0044 0532 0130 00", "COBADEFF"):
        assert shown in text


def test_a_zero_rated_invoice_says_why_and_a_credit_note_names_its_invoice():
    export = _text(invoice_pdf(make_document(VatRule.EXPORT), SELLER))
    assert EXEMPTION_NOTES[VatRule.EXPORT] in export and "VAT 0.00 % 0.00 EUR" in export
    credit = _text(invoice_pdf(make_credit_note(make_document(), {2: 1}), SELLER))
    assert "Credit note CN-2026-000001" in credit and "Corrects invoice INV-2026-000001" in credit
    assert "Total credited 225.98 EUR" in credit and "Please pay" not in credit


def test_a_long_invoice_runs_over_pages_each_numbered_and_headed():
    lines = tuple(Line(f"LEU-{n}KG", f"L-Leucine, food grade, {n} kg", 1, Decimal("10.00"), (f"L2026-{n:04d}",))
                  for n in range(1, 61))
    pdf = invoice_pdf(make_document(VatRule.DOMESTIC, lines), SELLER)
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages]
    assert len(pages) > 1
    assert all(f"Page {n} of {len(pages)}" in page and "Invoice INV-2026-000001" in page
               and "Pos. Item Units Unit price Net amount" in page for n, page in enumerate(pages, start=1))
    assert "Total due 714.00 EUR" in pages[-1]


def test_a_prepaid_orders_invoice_says_nothing_is_due():
    text = _text(invoice_pdf(make_document(payment_terms="prepaid"), SELLER))
    assert "Total, paid in advance 2,989.16 EUR" in text and "nothing is due" in text and "Please pay" not in text


def test_a_proforma_asks_for_payment_quoting_the_order_and_is_no_tax_invoice():
    pdf = proforma_pdf(PROFORMA, SELLER)
    text = _text(pdf)
    assert "Pro-forma invoice — not a tax invoice." in text
    assert "Please pay 2,311.22 EUR by bank transfer" in text and "quoting ORD-2026-00042" in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text and "INV-" not in text
    assert PdfReader(BytesIO(pdf)).attachments == {}  # no e-invoice in it: it is not one
    assert pdf_to_png(pdf, "invoice-pdf-proforma").stat().st_size > 10_000
