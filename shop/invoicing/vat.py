"""Which VAT an order bears: the rule (domestic, intra-community, export, other EU sale), its rate and, for 0 %,
the note the invoice must carry (DESIGN.md, "Payment terms, credit and invoices").

`rule_for` is the pure decision over country codes and the EU's members; `decide` reads what it needs from the
`vat_rate` table (rates and membership are data, not code) in one statement and applies it."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from shop.accounts.companies import check_vat_id
from shop.invoicing.models import EXEMPTION_NOTES, VatRate, VatRule
from shop.platform.errors import InvalidInput
from shop.platform.extensions import db

STANDARD = "standard"
ZERO = Decimal("0.00")
# VAT IDs name a few member states otherwise than ISO 3166 does: Greece's start with EL.
_VAT_ID_COUNTRIES = {"EL": "GR"}


class UnknownVatRate(LookupError):
    """The seller's country has no standard rate in the vat_rate table: a setup mistake, named for the operator."""


@dataclass(frozen=True)
class VatDecision:
    rule: VatRule
    rate: Decimal  # percent, such as 19.00
    note: str = ""  # why a 0 % rate applies (EXEMPTION_NOTES), else empty


def vat_id_country(vat_id: str) -> str | None:
    """The ISO country code of the member state that issued a VAT ID valid by python-stdnum (the check
    accounts uses), or None for an empty or invalid one."""
    try:
        compact = check_vat_id(vat_id)
    except InvalidInput:
        return None
    if not compact:
        return None
    prefix = compact[:2].upper()
    return _VAT_ID_COUNTRIES.get(prefix, prefix)


def rule_for(seller_country: str, ship_country: str, buyer_vat_country: str | None,
             eu_members: Collection[str]) -> VatRule:
    """The rule of a sale from `seller_country` shipped to `ship_country`, to a buyer whose valid VAT ID was
    issued by `buyer_vat_country` (None: no valid ID)."""
    if ship_country == seller_country:
        return VatRule.DOMESTIC
    if ship_country not in eu_members:
        return VatRule.EXPORT
    if buyer_vat_country is not None and buyer_vat_country in eu_members and buyer_vat_country != seller_country:
        return VatRule.INTRA_COMMUNITY
    return VatRule.EU_OTHER


def decide(*, seller_country: str, ship_country: str, buyer_vat_id: str) -> VatDecision:
    """The VAT of a sale: the seller's standard rate, or 0 % with its note for an intra-community supply or an
    export. Reads the standard rates of the countries involved (one statement)."""
    seller_country, ship_country = seller_country.upper(), ship_country.upper()
    buyer_country = vat_id_country(buyer_vat_id)
    countries = {seller_country, ship_country} | ({buyer_country} if buyer_country else set())
    rows = db.session.execute(select(VatRate.country, VatRate.rate, VatRate.eu_member)
                              .where(VatRate.category == STANDARD, VatRate.country.in_(sorted(countries)))).all()
    rates = {row.country: row.rate for row in rows}
    if seller_country not in rates:
        raise UnknownVatRate(f"No standard VAT rate for the seller's country {seller_country} (SHOP_COUNTRY) in "
                             "the vat_rate table.")
    rule = rule_for(seller_country, ship_country, buyer_country, {row.country for row in rows if row.eu_member})
    if rule in EXEMPTION_NOTES:
        return VatDecision(rule, ZERO, EXEMPTION_NOTES[rule])
    return VatDecision(rule, rates[seller_country])
