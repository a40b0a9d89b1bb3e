"""A prepaid order's pro-forma invoice: what the buyer is asked to pay before the order ships, its lines and totals
as placed, VAT included. A PDF, not a tax invoice: it has no number of the invoice series."""
from __future__ import annotations

from flask import current_app

from shop.fulfilment.billing import buyer_address, describe
from shop.invoicing import documents
from shop.invoicing.pdf import Party, ProForma, ProFormaLine, proforma_pdf
from shop.ordering.models import Order
from shop.ordering.totals import owed
from shop.platform.countries import country_name


def proforma_of(order: Order) -> ProForma:
    """The order's pro-forma: the company as it is now, the lines still to deliver, the order's VAT and totals."""
    company = order.company
    line1, line2, city, postal_code, country = buyer_address(order)
    town = " ".join(part for part in (postal_code, city) if part)
    address = (line1, line2, town, country_name(country) if country else "")
    lines = tuple(ProFormaLine(line.sku, describe(line), line.wanted, line.unit_price, line.line_total)
                  for line in order.lines if line.wanted)
    vat, money = owed(order, current_app.config["SHOP_COUNTRY"])  # with VAT, even if placed before VAT
    return ProForma(order.number, order.placed_at.date(), Party(company.name, tuple(a for a in address if a),
                                                                 company.vat_id),
                    lines, money.net, vat.rule, vat.rate, money.vat, money.gross, order.currency, order.purchase_order)


def proforma_pdf_of(order: Order) -> bytes:
    """The order's pro-forma as a PDF."""
    return proforma_pdf(proforma_of(order), documents.seller())
