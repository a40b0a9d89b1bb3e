"""Which VAT an order bears: the rule (domestic, intra-community, export, other EU sale), its rate and, for 0 %,
the note the invoice must carry (DESIGN.md, "Payment terms, credit and invoices").

`rule_for` is the pure decision over country codes and the EU's members; what it needs from the `vat_rate` table
(rates and membership are data, not code) is read as `facts_columns`, by `decide` in a statement of its own or by
placing inside the one read of an order (ordering.reading), and applied by `decision`."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from shop.accounts.companies import check_vat_id
from shop.invoicing.models import EXEMPTION_NOTES, VatRate, VatRule
from shop.platform.errors import InvalidInput, NotReady
from shop.platform.extensions import db

STANDARD = "standard"
ZERO = Decimal("0.00")
# VAT IDs name a few member states otherwise than ISO 3166 does: Greece's start with EL.
_VAT_ID_COUNTRIES = {"EL": "GR"}


class UnknownVatRate(NotReady):
    """The seller's country has no standard rate in the vat_rate table: a setup mistake, named for the operator."""


@dataclass(frozen=True)
class VatDecision:
    rule: VatRule
    rate: Decimal  # percent, such as 19.00
    note: str = ""  # why a 0 % rate applies (EXEMPTION_NOTES), else empty


def vat_label(rate: Decimal) -> str:
    """How a document names a VAT rate: 'VAT 19.00 %'."""
    return f"VAT {rate:.2f} %"


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


@dataclass(frozen=True)
class VatFacts:
    """What the vat_rate table says about a sale from the seller's country: its standard rate (None: the table
    has none) and the EU's member states."""

    seller_rate: Decimal | None
    eu_members: frozenset[str]


def facts_columns(seller_country) -> list:
    """The two columns of VatFacts for `seller_country` (a value or a bind parameter), as scalar subqueries that
    any SELECT can carry: placing reads them with everything else an order needs, in its one read."""
    rate = (select(VatRate.rate).where(VatRate.country == seller_country, VatRate.category == STANDARD)
            .scalar_subquery().label("seller_vat_rate"))
    members = (select(func.aggregate_strings(VatRate.country, ","))
               .where(VatRate.eu_member, VatRate.category == STANDARD).scalar_subquery().label("eu_members"))
    return [rate, members]


def facts_of(row) -> VatFacts:
    """VatFacts from a row that carries `facts_columns`."""
    return VatFacts(row.seller_vat_rate, frozenset((row.eu_members or "").split(",")) - {""})


def read_facts(seller_country: str) -> VatFacts:
    """What the vat_rate table says about sales from `seller_country` (one statement)."""
    return facts_of(db.session.execute(select(*facts_columns(seller_country.upper()))).one())


def decision(facts: VatFacts, *, seller_country: str, ship_country: str, buyer_vat_id: str) -> VatDecision:
    """The VAT of a sale, given what the table says: the seller's standard rate, or 0 % with its note for an
    intra-community supply or an export."""
    seller_country, ship_country = seller_country.upper(), ship_country.upper()
    if facts.seller_rate is None:
        raise UnknownVatRate(f"No standard VAT rate for the seller's country {seller_country} (SHOP_COUNTRY) in "
                             "the vat_rate table.")
    rule = rule_for(seller_country, ship_country, vat_id_country(buyer_vat_id), facts.eu_members)
    if rule in EXEMPTION_NOTES:
        return VatDecision(rule, ZERO, EXEMPTION_NOTES[rule])
    return VatDecision(rule, facts.seller_rate)


def seller_rate_check(seller_country: str) -> str:
    """/readyz's check of the setting SHOP_COUNTRY against the data: "ok" when the vat_rate table has the country's
    standard rate, else what an operator must fix (every order would be refused until then)."""
    if read_facts(seller_country).seller_rate is None:
        return (f"no standard VAT rate for SHOP_COUNTRY {seller_country.upper()} in the vat_rate table: orders "
                "cannot be priced; set SHOP_COUNTRY to the seller's country or add its rate")
    return "ok"


def decide(*, seller_country: str, ship_country: str, buyer_vat_id: str) -> VatDecision:
    """`decision`, reading the table's facts first (one statement)."""
    return decision(read_facts(seller_country), seller_country=seller_country, ship_country=ship_country,
                    buyer_vat_id=buyer_vat_id)
