"""Pricing: a line's unit price, answered by a policy from what was read of its pack size.

The public price list: the deepest price break the quantity reaches, else the list price. A company's contract
prices (DESIGN.md; read with the pack size, for the day of the order): the contract tier the quantity reaches
where the company's list has one, else the public price (catalog.tiers states the same rule over plain
tiers, for the pages). A line's price is catalog.tiers.Price, the one price value: its `source` says whether the
contract list or the public list priced it, and `price_list_id` which contract list.
"""
from __future__ import annotations

from typing import Protocol

from shop.catalog.tiers import CONTRACT, LIST, Price
from shop.ordering.reading import PackSize


class PricingPolicy(Protocol):
    def price(self, pack: PackSize, quantity: int) -> Price:
        """The unit price of `quantity` units of `pack`."""
        ...


class PublicPrices:
    """The public price list: price breaks from their quantity up, else the list price."""

    def price(self, pack: PackSize, quantity: int) -> Price:
        if pack.break_price is not None:
            return Price(pack.break_price, LIST)
        return Price(pack.list_price, LIST)


PUBLIC_PRICES = PublicPrices()


class ContractPrices:
    """The ordering company's contract price where its list has a tier for the quantity, else the public one."""

    def price(self, pack: PackSize, quantity: int) -> Price:
        if pack.contract_price is not None:
            return Price(pack.contract_price, CONTRACT, pack.price_list_id)
        return PUBLIC_PRICES.price(pack, quantity)


CONTRACT_PRICES = ContractPrices()
