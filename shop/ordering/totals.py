"""An order's money: its lines' totals, its subtotal, its VAT and its total, computed one way wherever they
change (placing, cancelled or missing units, a cancelled backorder, the VAT of an order placed before VAT existed
decided as it ships), so that `total` = `subtotal` + `vat` always.

VAT is the order's rate applied once to the sum of the lines' net amounts, rounded half-up to cents (EN 16931
BR-CO-17: invoicing.money.totals), never a sum of rounded per-line VAT."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from shop.invoicing.models import VatRule
from shop.invoicing.money import Totals, line_net, totals
from shop.invoicing.vat import VatDecision, decide
from shop.ordering.models import Order


def order_totals(line_totals: Iterable[Decimal], vat_rate: Decimal) -> Totals:
    """Subtotal (`net`), VAT and total (`gross`) of lines whose totals are `line_totals`, at `vat_rate` percent."""
    return totals(line_totals, vat_rate)


def recompute(order: Order) -> None:
    """Set each line's total from the units still wanted, and the order's subtotal, VAT and total from them at
    the rate the order was placed with."""
    for line in order.lines:
        line.line_total = line_net(line.wanted, line.unit_price)
    money = order_totals((line.line_total for line in order.lines), order.vat_rate)
    order.subtotal, order.vat, order.total = money.net, money.vat, money.gross


def vat_to_decide(order: Order, seller_country: str) -> VatDecision | None:
    """The VAT an order placed before VAT existed (no VAT rule, and no VAT: its prices were before VAT) bears from
    when it ships, decided as placing does now (invoicing.vat: the seller's country, where the order ships, the
    company's VAT ID; today's rates); None for an order that has its VAT."""
    if order.vat_rule is not None:
        return None
    return decide(seller_country=seller_country, ship_country=order.ship_country, buyer_vat_id=order.company.vat_id)


def decide_missing_vat(order: Order, seller_country: str) -> None:
    """Give an order placed before VAT existed the VAT it owes (vat_to_decide) and recompute its VAT and total, so
    that what it ships is invoiced with that VAT, never as a domestic sale at 0 %. Nothing for an order that has
    its VAT."""
    vat = vat_to_decide(order, seller_country)
    if vat is not None:
        order.vat_rule, order.vat_rate = vat.rule.value, vat.rate
        recompute(order)


def owed(order: Order, seller_country: str) -> tuple[VatDecision, Totals]:
    """The order's VAT and money; for one placed before VAT existed, those it owes once it ships (vat_to_decide):
    what a prepaid one pays before it ships, and its pro-forma says."""
    vat = vat_to_decide(order, seller_country)
    if vat is None:
        return VatDecision(VatRule(order.vat_rule), order.vat_rate), Totals(order.subtotal, order.vat, order.total)
    return vat, order_totals((line.line_total for line in order.lines), vat.rate)
