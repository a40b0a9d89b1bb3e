"""The e-invoice: an invoice or credit note as UN/CEFACT Cross Industry Invoice XML of the Factur-X profile
EN 16931, which a buyer's ERP books without anyone typing (DESIGN.md, "E-invoices").

Built from the document's own columns, its `lines` and, for a credit note, the invoice it `corrects`: nothing else
is read, so a document not yet (or never) in a session renders the same as an issued one. The amounts are the
document's as stored; the schematron's sums (BR-CO-10 to BR-CO-17) would show any that do not add up.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from lxml import etree

from shop.invoicing.models import EXEMPTION_NOTES, DocumentKind, Invoice, InvoiceLine, VatRule
from shop.invoicing.money import cents
from shop.platform.countries import country_name
from shop.platform.seller import Seller

NAMESPACES = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
GUIDELINE = "urn:cen.eu:en16931:2017"  # BT-24: the Factur-X profile EN 16931 (formerly "Comfort")
TYPE_CODES = {DocumentKind.INVOICE: "380", DocumentKind.CREDIT_NOTE: "381"}  # UNTDID 1001
# UNCL 5305 VAT categories: S standard rate, K intra-community supply (reverse charge), G export outside the EU.
VAT_CATEGORIES = {VatRule.DOMESTIC: "S", VatRule.EU_OTHER: "S", VatRule.INTRA_COMMUNITY: "K", VatRule.EXPORT: "G"}
EXEMPTION_CODES = {VatRule.INTRA_COMMUNITY: "VATEX-EU-IC", VatRule.EXPORT: "VATEX-EU-G"}  # CEF VATEX code list
SEPA_CREDIT_TRANSFER = "58"  # UNCL 4461
PIECE = "C62"  # UN/ECE Recommendation 20 "one": a line counts packs, each sold whole
LOT_NUMBERS = "Lot numbers"  # BT-160, the name of the item attribute that lists a line's lots
_POSTCODE_AND_CITY = re.compile(r"(?:[A-Z]{1,2}-)?(?P<postcode>[0-9][0-9A-Z -]{2,9}?)\s+(?P<city>\D.*)")


def cii_xml(document: Invoice, seller: Seller) -> bytes:
    """The document as Factur-X EN 16931 CII XML (UTF-8, with declaration)."""
    root = _element("rsm:CrossIndustryInvoice")
    context = _add(root, "rsm:ExchangedDocumentContext")
    _add(_add(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)
    header = _add(root, "rsm:ExchangedDocument")
    _add(header, "ram:ID", document.number)
    _add(header, "ram:TypeCode", TYPE_CODES[document.kind])
    _add_date(header, "ram:IssueDateTime", document.issued_on)
    transaction = _add(root, "rsm:SupplyChainTradeTransaction")
    for line in document.lines:
        _add_line(transaction, line, document)
    _add_agreement(transaction, document, seller)
    _add_delivery(transaction, document)
    _add_settlement(transaction, document, seller)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def payment_terms_text(document: Invoice) -> str:
    """What the document says about paying it (BT-20), the PDF's words too: "Net 30 days, due 2026-03-02"."""
    if document.kind == DocumentKind.CREDIT_NOTE:
        corrected = document.corrects.number if document.corrects else "the invoice"
        return f"Credit for {corrected}: set off against what is due, or refunded by {document.due_on.isoformat()}"
    if paid_in_advance(document):
        return "Prepaid: paid in full before the goods shipped, nothing is due"
    return f"{terms_label(document.payment_terms)}, due {document.due_on.isoformat()}"


def terms_label(payment_terms: str) -> str:
    """Payment terms as people say them: "net_30" -> "Net 30 days", "prepaid" -> "Prepaid"."""
    days = payment_terms.removeprefix("net_")
    return f"Net {days} days" if days.isdigit() else payment_terms.capitalize()


def paid_in_advance(document: Invoice) -> bool:
    """An invoice of a prepaid order: the order ships only once paid in full, so its invoice is paid when issued
    and says so (BT-113), lest the buyer's ERP pay it a second time."""
    return document.kind == DocumentKind.INVOICE and document.payment_terms == "prepaid"


def amount_due(document: Invoice) -> Decimal:
    """BT-115 as issued: the gross total, or nothing for an invoice paid in advance."""
    return Decimal("0.00") if paid_in_advance(document) else document.gross


def vat_category(rule: VatRule) -> str:
    """The UNCL 5305 VAT category code of an order's VAT rule (S, K or G)."""
    return VAT_CATEGORIES[VatRule(rule)]


def _add_line(transaction: etree._Element, line: InvoiceLine, document: Invoice) -> None:
    """BG-25, identified by its position (a credit note's lines keep their invoice's positions)."""
    item = _add(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _add(_add(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    product = _add(item, "ram:SpecifiedTradeProduct")
    _add(product, "ram:SellerAssignedID", line.sku)
    _add(product, "ram:Name", line.description)
    if line.lot_numbers:
        attribute = _add(product, "ram:ApplicableProductCharacteristic")
        _add(attribute, "ram:Description", LOT_NUMBERS)
        _add(attribute, "ram:Value", ", ".join(lot_list(line)))
    price = _add(_add(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
    _add(price, "ram:ChargeAmount", _amount(line.unit_price))
    _add(_add(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", str(line.quantity), unitCode=PIECE)
    settlement = _add(item, "ram:SpecifiedLineTradeSettlement")
    tax = _add(settlement, "ram:ApplicableTradeTax")
    _add(tax, "ram:TypeCode", "VAT")
    _add(tax, "ram:CategoryCode", vat_category(document.vat_rule))
    _add(tax, "ram:RateApplicablePercent", _amount(document.vat_rate))
    _add(_add(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"), "ram:LineTotalAmount",
         _amount(line.net))


def lot_list(line: InvoiceLine) -> list[str]:
    """A line's lots in the order shipped (stored comma-separated)."""
    return [lot.strip() for lot in line.lot_numbers.split(",") if lot.strip()]


def _add_agreement(transaction: etree._Element, document: Invoice, seller: Seller) -> None:
    """Who sells, who buys, and the references the buyer's ERP matches the invoice with."""
    agreement = _add(transaction, "ram:ApplicableHeaderTradeAgreement")
    # BT-10, the buyer's reference: their purchase-order reference, else our order number (BR-DE-15 wants one).
    _add(agreement, "ram:BuyerReference", document.buyer_reference or document.order_number)
    _add_seller(agreement, seller)
    _add_buyer(agreement, document)
    _add(_add(agreement, "ram:SellerOrderReferencedDocument"), "ram:IssuerAssignedID", document.order_number)
    if document.buyer_reference:  # BT-13, the purchase order it answers
        _add(_add(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID", document.buyer_reference)


def _add_seller(agreement: etree._Element, seller: Seller) -> None:
    party = _add(agreement, "ram:SellerTradeParty")
    _add(party, "ram:Name", seller.legal_name)
    contact = _add(party, "ram:DefinedTradeContact")
    _add(_add(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", seller.phone)
    _add(_add(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", seller.email)
    _add_address(party, *seller_postal_address(seller))
    _add(_add(party, "ram:URIUniversalCommunication"), "ram:URIID", seller.email, schemeID="EM")
    _add_vat_id(party, seller.vat_id)


def _add_buyer(agreement: etree._Element, document: Invoice) -> None:
    party = _add(agreement, "ram:BuyerTradeParty")
    _add(party, "ram:Name", document.buyer_name)
    postcode_and_city = (document.buyer_postal_code, document.buyer_city)
    _add_address(party, [document.buyer_line1, document.buyer_line2], *postcode_and_city,
                 document.buyer_country or document.ship_country)
    if document.buyer_vat_id:
        _add_vat_id(party, document.buyer_vat_id)


def seller_postal_address(seller: Seller) -> tuple[list[str], str, str, str]:
    """The seller's address lines as street lines, postcode, city and country code. SELLER_ADDRESS is free text
    ("Industriestraße 14; 77866 Rheinau; Germany"): the last line that starts with a postcode gives postcode and
    city, a last line naming the seller's country is dropped, and what else there is are street lines."""
    lines = list(seller.address)
    if lines and lines[-1].casefold() in (country_name(seller.country).casefold(), seller.country.casefold()):
        lines.pop()
    for index in range(len(lines) - 1, -1, -1):
        if match := _POSTCODE_AND_CITY.fullmatch(lines[index]):
            return lines[:index] + lines[index + 1:], match["postcode"], match["city"], seller.country
    return lines[:-1], "", lines[-1] if lines else "", seller.country


def _add_address(party: etree._Element, street: Iterable[str], postcode: str, city: str, country: str) -> None:
    address = _add(party, "ram:PostalTradeAddress")
    if postcode:
        _add(address, "ram:PostcodeCode", postcode)
    # CII has three street lines (BT-35, BT-36, BT-162); a fourth or later joins the third.
    street = [line for line in street if line]
    for tag, line in zip(("ram:LineOne", "ram:LineTwo"), street[:2], strict=False):
        _add(address, tag, line)
    if len(street) > 2:
        _add(address, "ram:LineThree", ", ".join(street[2:]))
    if city:
        _add(address, "ram:CityName", city)
    _add(address, "ram:CountryID", country.upper())


def _add_vat_id(party: etree._Element, vat_id: str) -> None:
    _add(_add(party, "ram:SpecifiedTaxRegistration"), "ram:ID", vat_id.replace(" ", ""), schemeID="VA")


def _add_delivery(transaction: etree._Element, document: Invoice) -> None:
    """Where the goods went (BT-80: a 0 % rule rests on it) and when they left (BT-72: the day the invoice was
    issued, as invoices are issued when goods ship; for a credit note, the corrected invoice's day)."""
    delivery = _add(transaction, "ram:ApplicableHeaderTradeDelivery")
    ship_to = _add(delivery, "ram:ShipToTradeParty")
    _add(_add(ship_to, "ram:PostalTradeAddress"), "ram:CountryID", document.ship_country.upper())
    shipped_on = document.corrects.issued_on if document.corrects is not None else document.issued_on
    _add_date(_add(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime", shipped_on)


def _add_settlement(transaction: etree._Element, document: Invoice, seller: Seller) -> None:
    """Currency, how to pay, the VAT breakdown, terms, totals and (credit note) the invoice it corrects."""
    settlement = _add(transaction, "ram:ApplicableHeaderTradeSettlement")
    _add(settlement, "ram:PaymentReference", document.number)  # BT-83: what to write on the transfer
    _add(settlement, "ram:InvoiceCurrencyCode", document.currency)
    if document.kind == DocumentKind.INVOICE:  # a credit note is paid by us, not into our account
        means = _add(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _add(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        _add(_add(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", seller.iban)
        _add(_add(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", seller.bic)
    _add_vat_breakdown(settlement, document)
    terms = _add(settlement, "ram:SpecifiedTradePaymentTerms")
    _add(terms, "ram:Description", payment_terms_text(document))
    _add_date(terms, "ram:DueDateDateTime", document.due_on)
    _add_totals(settlement, document)
    if document.kind == DocumentKind.CREDIT_NOTE:
        _add_corrected_invoice(settlement, document)


def _add_vat_breakdown(settlement: etree._Element, document: Invoice) -> None:
    """BG-23: one VAT category per document (an order has one VAT rule and rate)."""
    tax = _add(settlement, "ram:ApplicableTradeTax")
    _add(tax, "ram:CalculatedAmount", _amount(document.vat))
    _add(tax, "ram:TypeCode", "VAT")
    rule = VatRule(document.vat_rule)
    if rule in EXEMPTION_NOTES:
        _add(tax, "ram:ExemptionReason", EXEMPTION_NOTES[rule])
    _add(tax, "ram:BasisAmount", _amount(document.net))
    _add(tax, "ram:CategoryCode", vat_category(rule))
    if rule in EXEMPTION_CODES:
        _add(tax, "ram:ExemptionReasonCode", EXEMPTION_CODES[rule])
    _add(tax, "ram:RateApplicablePercent", _amount(document.vat_rate))


def _add_totals(settlement: etree._Element, document: Invoice) -> None:
    """BG-22. Only a prepaid order's invoice counts a prepaid amount: the document never changes, while payments
    on invoices arrive after it."""
    totals = _add(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _add(totals, "ram:LineTotalAmount", _amount(document.net))
    _add(totals, "ram:TaxBasisTotalAmount", _amount(document.net))
    _add(totals, "ram:TaxTotalAmount", _amount(document.vat), currencyID=document.currency)
    _add(totals, "ram:GrandTotalAmount", _amount(document.gross))
    if paid_in_advance(document):
        _add(totals, "ram:TotalPrepaidAmount", _amount(document.gross))
    _add(totals, "ram:DuePayableAmount", _amount(amount_due(document)))


def _add_corrected_invoice(settlement: etree._Element, document: Invoice) -> None:
    """BG-3: the preceding invoice a credit note corrects (BT-25 its number, BT-26 its date)."""
    corrected = document.corrects
    if corrected is None:
        raise ValueError(f"Credit note {document.number} does not say which invoice it corrects.")
    reference = _add(settlement, "ram:InvoiceReferencedDocument")
    _add(reference, "ram:IssuerAssignedID", corrected.number)
    issued = _add(reference, "ram:FormattedIssueDateTime")
    _add(issued, "qdt:DateTimeString", corrected.issued_on.strftime("%Y%m%d"), format="102")


def _element(name: str) -> etree._Element:
    return etree.Element(_qualified(name), nsmap=NAMESPACES)


def _add(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
    """A child element `name` ("ram:Name") of `parent`, with its text and attributes."""
    child = etree.SubElement(parent, _qualified(name), attributes)
    if text is not None:
        child.text = text
    return child


def _add_date(parent: etree._Element, name: str, day: date) -> None:
    _add(_add(parent, name), "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _qualified(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NAMESPACES[prefix]}}}{local}"


def _amount(value: Decimal) -> str:
    """An amount or a percentage as CII writes it: a plain decimal with two places ("1234.50", "19.00")."""
    return str(cents(Decimal(value)))
