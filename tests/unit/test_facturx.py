"""#24 e-invoices: every kind of invoice and credit note the shop issues is Factur-X EN 16931 CII XML that passes
the Factur-X XSD and CEN's EN 16931 schematron with no fatal finding, so a buyer's ERP books it without typing;
the check would catch a total that does not add up; and over random lines, quantities, prices and rates the
amounts add up exactly (BR-CO-17, money.py) and are the XML's."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from shop.invoicing.einvoice import NAMESPACES, cii_xml, seller_postal_address
from shop.invoicing.models import EXEMPTION_NOTES, VatRule
from shop.invoicing.money import cents, line_net
from tests.support.invoices import LINES, SELLER, Line, facturx_findings, make_credit_note, make_document

ONE_LINE = LINES[:1]
NO_LOTS = (Line("VAL-1KG", "L-Valine, food grade, 1 kg bag", 1, Decimal("24.35")),)
DOCUMENTS = {
    "invoice, domestic, several lines and lots": lambda: make_document(VatRule.DOMESTIC),
    "invoice, intra-community": lambda: make_document(VatRule.INTRA_COMMUNITY),
    "invoice, export": lambda: make_document(VatRule.EXPORT),
    "invoice, other EU sale at the seller's rate": lambda: make_document(VatRule.EU_OTHER),
    "invoice, one line with one lot": lambda: make_document(VatRule.DOMESTIC, ONE_LINE),
    "invoice, no lots, prepaid, no PO reference": lambda: make_document(VatRule.DOMESTIC, NO_LOTS,
                                                                       payment_terms="prepaid", buyer_reference=""),
    "credit note, whole invoice": lambda: make_credit_note(make_document(VatRule.DOMESTIC)),
    "credit note, part of two lines": lambda: make_credit_note(make_document(VatRule.DOMESTIC), {1: 1, 2: 2}),
    "credit note, intra-community": lambda: make_credit_note(make_document(VatRule.INTRA_COMMUNITY), {3: 5}),
    "credit note, export": lambda: make_credit_note(make_document(VatRule.EXPORT)),
}


def _xml(document) -> etree._Element:
    return etree.fromstring(cii_xml(document, SELLER))


def _text(root: etree._Element, path: str) -> str:
    return root.findtext(path, namespaces=NAMESPACES)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_every_kind_of_document_passes_the_factur_x_schema_and_en16931_rules(kind):
    assert facturx_findings(cii_xml(DOCUMENTS[kind](), SELLER)) == []


@pytest.mark.parametrize("breakage, rule", [
    (lambda doc: setattr(doc, "gross", doc.gross + Decimal("0.01")), "BR-CO-15"),  # gross is not net + VAT
    (lambda doc: setattr(doc.lines[0], "net", doc.lines[0].net + Decimal("1.00")), "BR-CO-10"),  # lines ≠ net
    (lambda doc: (setattr(doc, "vat", doc.vat + Decimal("0.01")), setattr(doc, "gross", doc.gross + Decimal("0.01"))),
     "BR-CO-17 exact"),  # VAT a cent off, gross following it
    (lambda doc: setattr(doc, "buyer_vat_id", ""), "BR-IC-"),  # reverse charge without the buyer's VAT ID
])
def test_a_total_or_party_broken_on_purpose_is_caught(breakage, rule):
    document = make_document(VatRule.INTRA_COMMUNITY if rule == "BR-IC-" else VatRule.DOMESTIC)
    breakage(document)
    assert any(f"[{rule}" in finding for finding in facturx_findings(cii_xml(document, SELLER)))


def test_an_intra_community_invoice_says_reverse_charge_with_both_vat_ids():
    root = _xml(make_document(VatRule.INTRA_COMMUNITY))
    tax = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/"
    assert _text(root, tax + "ram:CategoryCode") == "K"
    assert _text(root, tax + "ram:ExemptionReason") == EXEMPTION_NOTES[VatRule.INTRA_COMMUNITY]
    assert _text(root, tax + "ram:CalculatedAmount") == "0.00"
    ids = [e.text for e in root.iterfind(".//ram:SpecifiedTaxRegistration/ram:ID", NAMESPACES)]
    assert ids == [SELLER.vat_id, "FR40303265045"]
    assert _text(root, ".//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID") == "FR"


def test_an_export_invoice_is_category_g_with_its_exemption_note():
    root = _xml(make_document(VatRule.EXPORT))
    assert _text(root, ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == "G"
    assert _text(root, ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReason") \
        == EXEMPTION_NOTES[VatRule.EXPORT]


def test_an_invoice_asks_for_a_sepa_transfer_to_the_seller_with_terms_and_due_date():
    root = _xml(make_document(payment_terms="net_30"))
    assert _text(root, ".//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert _text(root, ".//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "DE89370400440532013000"
    assert _text(root, ".//ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == "COBADEFF"
    assert _text(root, ".//ram:SpecifiedTradePaymentTerms/ram:Description") == "Net 30 days, due 2026-04-01"
    assert _text(root, ".//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20260401"
    assert _text(root, ".//ram:PaymentReference") == "INV-2026-000001"


def test_a_prepaid_orders_invoice_is_paid_in_advance_so_an_erp_does_not_pay_it_twice():
    root = _xml(make_document(payment_terms="prepaid"))
    summation = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert _text(root, summation + "TotalPrepaidAmount") == _text(root, summation + "GrandTotalAmount") == "2989.16"
    assert _text(root, summation + "DuePayableAmount") == "0.00"


def test_the_buyer_reference_is_the_purchase_order_else_the_order_number():
    assert _text(_xml(make_document(buyer_reference="PO-4711")), ".//ram:BuyerReference") == "PO-4711"
    without = _xml(make_document(buyer_reference=""))
    assert _text(without, ".//ram:BuyerReference") == "ORD-2026-00042"
    assert _text(without, ".//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == "ORD-2026-00042"


def test_a_credit_note_is_type_381_and_names_the_invoice_it_corrects():
    invoice = make_document()
    root = _xml(make_credit_note(invoice, {2: 1}))
    assert _text(root, "rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert _text(root, ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == invoice.number
    assert _text(root, ".//ram:InvoiceReferencedDocument/ram:FormattedIssueDateTime/qdt:DateTimeString") \
        == "20260302"
    assert _text(root, ".//ram:GrandTotalAmount") == "225.98"  # one pail at 189.90 plus 19 % VAT
    assert _text(root, ".//ram:AssociatedDocumentLineDocument/ram:LineID") == "2"  # the invoice's line 2


def test_each_line_carries_sku_quantity_price_and_its_lots():
    items = _xml(make_document()).findall(".//ram:IncludedSupplyChainTradeLineItem", NAMESPACES)
    second = items[1]
    assert _text(second, ".//ram:SellerAssignedID") == "ILE-5KG"
    assert second.find(".//ram:BilledQuantity", NAMESPACES).attrib["unitCode"] == "C62"
    assert _text(second, ".//ram:ApplicableProductCharacteristic/ram:Value") == "I2026-0107, I2026-0119"
    assert _text(second, ".//ram:ChargeAmount") == "189.90"
    assert _text(second, ".//ram:LineTotalAmount") == "569.70"


@pytest.mark.parametrize("address, expected", [
    (("Industriestraße 14", "77866 Rheinau", "Germany"), (["Industriestraße 14"], "77866", "Rheinau")),
    (("Werk 2", "Chemiepark 7", "D-06749 Bitterfeld-Wolfen"), (["Werk 2", "Chemiepark 7"], "06749",
                                                                "Bitterfeld-Wolfen")),
    (("Hafenstraße 1", "Hamburg"), (["Hafenstraße 1"], "", "Hamburg")),
])
def test_the_sellers_free_text_address_becomes_street_postcode_city_and_country(address, expected):
    seller = replace(SELLER, address=address)
    assert seller_postal_address(seller) == (*expected, "DE")
    assert facturx_findings(cii_xml(make_document(), seller)) == []


prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2, allow_nan=False,
                     allow_infinity=False)
lines = st.lists(st.builds(Line, sku=st.just("LEU-25KG"), description=st.just("L-Leucine, 25 kg drum"),
                           quantity=st.integers(1, 1000), unit_price=prices,
                           lots=st.lists(st.sampled_from(["L1", "L2", "L3"]), max_size=3, unique=True).map(tuple)),
                 min_size=1, max_size=6).map(tuple)
# Any rate from 1 % (the lowest EU rate is 2.1 %): the schematron's BR-CO-17 rounds a rate under 0.5 % to 0 and
# then wants no VAT at all, a quirk no real rate meets.
rates = st.one_of(st.sampled_from([Decimal(r) for r in ("0.00", "5.00", "7.00", "19.00", "21.00", "25.50")]),
                  st.decimals(min_value=Decimal("1.00"), max_value=Decimal("30.00"), places=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines, rate=rates)
def test_amounts_add_up_exactly_and_are_the_xmls(lines, rate):
    document = make_document(VatRule.EXPORT if rate == 0 else VatRule.DOMESTIC, lines, rate=rate)
    nets = [line_net(line.quantity, line.unit_price) for line in lines]
    assert [line.net for line in document.lines] == nets
    assert document.net == sum(nets) and document.vat == cents(document.net * rate / 100)
    assert document.gross == document.net + document.vat
    xml = cii_xml(document, SELLER)
    root = etree.fromstring(xml)
    line_totals = root.iterfind(".//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
                                NAMESPACES)
    assert [Decimal(total.text) for total in line_totals] == nets
    summation = ".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert Decimal(_text(root, summation + "TaxBasisTotalAmount")) == document.net
    assert Decimal(_text(root, summation + "TaxTotalAmount")) == document.vat
    assert Decimal(_text(root, summation + "GrandTotalAmount")) == document.gross
    assert facturx_findings(xml) == []
