"""Pricing: a line's unit price, answered by a policy from what was read of its pack size.

The public price list: the deepest price break the quantity reaches, else the list price. A company's contract
prices (DESIGN.md; read with the pack size, for the day of the order): the contract tier the quantity reaches
where the company's list has one, else the public price (services.tiers states the same rule over plain
tiers, for the pages). `Price.source` records which list priced the line, and `price_list_id` which contract list.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shop.ordering.reading import PackSize

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Price:
    unit_price: Decimal
    source: str  # which list priced the line: "list", "price_break" or "contract"
    price_list_id: int | None = None  # the contract list, for "contract"

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


class ContractPrices:
    """The ordering company's contract price where its list has a tier for the quantity, else the public one."""

    def price(self, pack: PackSize, quantity: int) -> Price:
        if pack.contract_price is not None:
            return Price(pack.contract_price, "contract", pack.price_list_id)
        return PUBLIC_PRICES.price(pack, quantity)


CONTRACT_PRICES = ContractPrices()
