"""Pricing: a line's unit price, answered by a policy from what was read of its pack size.

Today's policy is the public price list: the deepest price break the quantity reaches, else the list price.
Another policy (a company's contract prices) is a class with the same `price` method, passed to placing;
`Price.source` records which list priced the line.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from .reading import PackSize

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Price:
    unit_price: Decimal
    source: str  # which list priced the line: "list" or "price_break"

    def total(self, quantity: int) -> Decimal:
        return (self.unit_price * quantity).quantize(CENT)


class PricingPolicy(Protocol):
    def price(self, pack: PackSize, quantity: int) -> Price:
        """The unit price of `quantity` units of `pack`."""
        ...


class PublicPrices:
    """The public price list: price breaks from their quantity up, else the list price."""

    def price(self, pack: PackSize, quantity: int) -> Price:
        if pack.break_price is not None:
            return Price(pack.break_price, "price_break")
        return Price(pack.list_price, "list")


PUBLIC_PRICES = PublicPrices()
