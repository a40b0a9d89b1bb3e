"""An order's money: its lines' totals, its subtotal, its VAT and its total, computed one way wherever they
change (placing, cancelled or missing units, a cancelled backorder), so that `total` = `subtotal` + `vat` always.

VAT is the order's rate applied once to the sum of the lines' net amounts, rounded half-up to cents (EN 16931
BR-CO-17: invoicing.money.totals), never a sum of rounded per-line VAT."""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from shop.invoicing.money import Totals, line_net, totals
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
