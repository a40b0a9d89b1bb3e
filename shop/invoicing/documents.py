"""An issued document's files with the seller from the settings, as the API, the storefront, the staff pages and
the e-mail serve them: its CII XML (EN 16931) and its Factur-X PDF."""
from __future__ import annotations

from flask import current_app

from shop.invoicing.einvoice import cii_xml
from shop.invoicing.models import Invoice
from shop.invoicing.pdf import invoice_pdf
from shop.platform.seller import Seller


def seller() -> Seller:
    return Seller.from_config(current_app.config)


def xml_of(document: Invoice) -> bytes:
    """The document's Cross Industry Invoice XML."""
    return cii_xml(document, seller())


def pdf_of(document: Invoice) -> bytes:
    """The document's Factur-X PDF (PDF/A-3, its XML embedded as factur-x.xml)."""
    return invoice_pdf(document, seller())
