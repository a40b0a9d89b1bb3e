"""VAT per order (each rule with real VAT IDs), payment terms, the credit limit at placing and at approval
(atomic, on both databases) and a company's open exposure (issue #24)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from shop.invoicing.models import EXEMPTION_NOTES, VatRule
from shop.invoicing.vat import decide
from shop.platform.config import ConfigError

D = Decimal


# --- The VAT rule of an order ------------------------------------------------------------------------------

@pytest.mark.parametrize("ship, vat_id, rule, rate", [
    ("DE", "", VatRule.DOMESTIC, D("19.00")),
    ("DE", "FR40303265045", VatRule.DOMESTIC, D("19.00")),
    ("FR", "FR40303265045", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("AT", "ATU13585627", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("NL", "NL004495445B01", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("BE", "BE0403170701", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("GR", "EL094259216", VatRule.INTRA_COMMUNITY, D("0.00")),
    ("FR", "FR40303265046", VatRule.EU_OTHER, D("19.00")),  # a wrong check digit: the seller's rate
    ("FR", "", VatRule.EU_OTHER, D("19.00")),
    ("FR", "DE136695976", VatRule.EU_OTHER, D("19.00")),
    ("CH", "", VatRule.EXPORT, D("0.00")),
    ("US", "FR40303265045", VatRule.EXPORT, D("0.00")),
])
def test_each_vat_rule_from_the_rates_table(app, ship, vat_id, rule, rate):
    decision = decide(seller_country="DE", ship_country=ship, buyer_vat_id=vat_id)
    assert (decision.rule, decision.rate) == (rule, rate)
    assert decision.note == EXEMPTION_NOTES.get(rule, "")


def test_another_sellers_country_charges_its_own_rate(app):
    """Rates are data: an Austrian seller charges Austria's 20 % at home and to a French consumer."""
    assert decide(seller_country="AT", ship_country="AT", buyer_vat_id="").rate == D("20.00")
    assert decide(seller_country="AT", ship_country="FR", buyer_vat_id="").rate == D("20.00")
    assert decide(seller_country="AT", ship_country="DE", buyer_vat_id="DE136695976").rule is VatRule.INTRA_COMMUNITY


@pytest.mark.parametrize("value", ["Germany", "XX", "D"])
def test_a_shop_country_that_is_no_country_code_stops_start_up_naming_it(make_app, monkeypatch, value):
    monkeypatch.setenv("SHOP_COUNTRY", value)
    with pytest.raises(ConfigError, match="SHOP_COUNTRY"):
        make_app()


def test_the_shop_country_defaults_to_germany(app):
    assert app.config["SHOP_COUNTRY"] == "DE"
