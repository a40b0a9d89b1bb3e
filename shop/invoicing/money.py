"""Money as invoices count it: `Decimal` throughout, rounded half-up to cents per line and in the totals.

VAT is the rate applied to the sum of the lines' net amounts, rounded once (EN 16931 BR-CO-17), never a sum of
rounded per-line VAT; gross is net plus VAT, exactly."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded half-up to cents."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: int, unit_price: Decimal) -> Decimal:
    """A line's net amount: quantity times unit price, in cents."""
    return cents(quantity * unit_price)


@dataclass(frozen=True)
class Totals:
    net: Decimal
    vat: Decimal
    gross: Decimal


def totals(line_nets: Iterable[Decimal], rate: Decimal) -> Totals:
    """The document's totals from its lines' net amounts and one VAT rate in percent (such as 19.00)."""
    net = cents(sum(line_nets, Decimal("0.00")))
    vat = cents(net * rate / HUNDRED)
    return Totals(net, vat, net + vat)
