"""The VAT rule of a sale, decided from the seller's and ship-to countries and the buyer's VAT ID (pure)."""
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shop.invoicing.models import VatRule
from shop.invoicing.money import cents
from shop.invoicing.vat import rule_for, vat_id_country
from shop.ordering.totals import order_totals

EU = {"AT", "BE", "DE", "FR", "GR", "NL", "IT", "ES"}


@pytest.mark.parametrize("vat_id, country", [("FR40303265045", "FR"), ("ATU13585627", "AT"),
                                             ("NL004495445B01", "NL"), ("BE 0403.170.701", "BE"),
                                             ("EL094259216", "GR"), ("DE136695976", "DE")])
def test_a_valid_vat_id_names_the_member_state_that_issued_it_greece_as_gr(vat_id, country):
    assert vat_id_country(vat_id) == country


@pytest.mark.parametrize("vat_id", ["", "FR40303265046", "XX123", "ATU13585628"])
def test_an_invalid_or_missing_vat_id_names_no_country(vat_id):
    assert vat_id_country(vat_id) is None


@pytest.mark.parametrize("ship, buyer, rule", [
    ("DE", None, VatRule.DOMESTIC),
    ("DE", "FR", VatRule.DOMESTIC),  # goods that stay in Germany are taxed there, whoever buys
    ("FR", "FR", VatRule.INTRA_COMMUNITY),
    ("AT", "NL", VatRule.INTRA_COMMUNITY),  # any other member state's ID
    ("GR", "GR", VatRule.INTRA_COMMUNITY),
    ("FR", None, VatRule.EU_OTHER),
    ("FR", "DE", VatRule.EU_OTHER),  # a German ID does not make a sale to France exempt
    ("CH", None, VatRule.EXPORT),
    ("US", "FR", VatRule.EXPORT),
])
def test_each_rule_from_a_german_seller(ship, buyer, rule):
    assert rule_for("DE", ship, buyer, EU) is rule


@given(st.sampled_from(sorted(EU | {"CH", "US", "NO"})), st.sampled_from(sorted(EU | {"CH"})) | st.none())
def test_a_zero_rate_rule_only_for_goods_that_leave_the_sellers_country(ship, buyer):
    rule = rule_for("DE", ship, buyer, EU)
    assert (rule is VatRule.DOMESTIC) == (ship == "DE")
    assert (rule is VatRule.EXPORT) == (ship not in EU)


@settings(max_examples=200, deadline=None)
@given(nets=st.lists(st.decimals("0.00", "99999.99", places=2), min_size=1, max_size=8),
       rate=st.decimals("0.00", "27.00", places=2))
def test_order_totals_add_up_with_vat_rounded_once_on_the_sum(nets, rate):
    money = order_totals(nets, rate)
    assert money.net == sum(nets)
    assert money.vat == cents(rate * sum(nets) / 100)
    assert money.gross == money.net + money.vat
    assert all(isinstance(amount, Decimal) for amount in (money.net, money.vat, money.gross))
