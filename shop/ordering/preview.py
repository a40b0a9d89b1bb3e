"""What a buyer is told before placing an order: its VAT (rule, rate and note) for where it ships, its subtotal,
VAT and total, and on credit what is left of the company's limit, so that the checkout warns before an order
that would be refused. The same rules and arithmetic as placing (invoicing.vat, ordering.totals, ordering.credit):
what it shows is what placing would decide, unless another order or a payment comes in between."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app

from shop.accounts.models import Company
from shop.invoicing.money import Totals
from shop.invoicing.vat import VatDecision, decide
from shop.ordering.credit import on_credit
from shop.ordering.exposure import available_credit, open_exposure
from shop.ordering.totals import order_totals


@dataclass(frozen=True)
class OrderPreview:
    vat: VatDecision
    money: Totals
    available_credit: Decimal | None  # None: the company's orders are not held to a limit

    @property
    def exceeds_credit(self) -> bool:
        return self.available_credit is not None and self.money.gross > self.available_credit


def vat_for(company: Company, ship_country: str | None) -> VatDecision:
    """The VAT an order of `company` shipped to `ship_country` (None: taken as the seller's own) bears, as placing
    will decide it (one statement)."""
    seller = current_app.config["SHOP_COUNTRY"]
    return decide(seller_country=seller, ship_country=ship_country or seller, buyer_vat_id=company.vat_id)


def preview(company: Company, line_totals: Iterable[Decimal], ship_country: str | None) -> OrderPreview:
    """The order of `company` with lines totalling `line_totals`, shipped to `ship_country` (None: not chosen yet,
    taken as the seller's own), in two statements: the VAT rates and, on credit, the exposure."""
    vat = vat_for(company, ship_country)
    credit = (available_credit(company.credit_limit, open_exposure(company.id))
              if on_credit(company.payment_terms, company.credit_limit) else None)
    return OrderPreview(vat, order_totals(line_totals, vat.rate), credit)
