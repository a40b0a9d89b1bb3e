"""Unit prices from price tiers (plain functions): the contract tier where one applies, else the public break.

The rule (DESIGN.md, contract price lists): for a quantity, the company's contract tier with the highest
from-quantity not above it, if its list has one for the pack size on the day; otherwise the public price break
with the highest from-quantity not above it, else the list price. A contract tier does not have to be cheaper:
where it applies, it is the price.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

CONTRACT, LIST = "contract", "list"
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Tier:
    """A unit price from `min_quantity` units up: a public price break, or a contract item of `price_list_id`."""

    min_quantity: int
    unit_price: Decimal
    price_list_id: int | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """A unit price and where it came from: the one price value of pages, the API and orders."""

    unit_price: Decimal
    source: str  # CONTRACT or LIST
    price_list_id: int | None = None  # the contract list that priced it

    def total(self, quantity: int) -> Decimal:
        """`quantity` units at this price, in cents."""
        return (self.unit_price * quantity).quantize(CENT)


@dataclass(frozen=True, slots=True)
class PriceStep:
    """One row of a pack's price table for a company: `price` from `min_quantity` units up to `max_quantity`."""

    min_quantity: int
    max_quantity: int | None
    price: Price


def _deepest(tiers: Sequence[Tier], quantity: int) -> Tier | None:
    reached = [t for t in tiers if t.min_quantity <= quantity]
    return max(reached, key=lambda t: t.min_quantity) if reached else None


def price_for(quantity: int, list_price: Decimal, breaks: Sequence[Tier] = (),
              contract: Sequence[Tier] = ()) -> Price:
    """The unit price of `quantity` units of a pack size with this list price, public breaks and contract tiers
    (those of the one list that applies on the order's day)."""
    tier = _deepest(contract, quantity)
    if tier is not None:
        return Price(tier.unit_price, CONTRACT, tier.price_list_id)
    tier = _deepest(breaks, quantity)
    return Price(tier.unit_price if tier is not None else list_price, LIST)


def price_steps(start: int, list_price: Decimal, breaks: Sequence[Tier] = (),
                contract: Sequence[Tier] = ()) -> list[PriceStep]:
    """The price table from `start` units (the minimum order) up: one step wherever the price changes, so that
    every quantity's price in the table is price_for(quantity)."""
    points = sorted({start} | {t.min_quantity for t in (*breaks, *contract) if t.min_quantity > start})
    steps: list[PriceStep] = []
    for point in points:
        price = price_for(point, list_price, breaks, contract)
        if steps and steps[-1].price == price:
            continue
        if steps:
            steps[-1] = PriceStep(steps[-1].min_quantity, point - 1, steps[-1].price)
        steps.append(PriceStep(point, None, price))
    return steps
