"""Why a cart line cannot be ordered as it is: one reason per line, in words for the buyer.

Checkout and the cart name every line that would be refused (stock, minimum order, shelf life, no longer
sold) before the order service is asked, and again from fresh facts when the service refuses an order
that was placed meanwhile. Plain values in, plain values out.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from shop.platform.wording import units


class Reason(enum.StrEnum):
    NO_LONGER_SOLD = "no_longer_sold"
    BELOW_MINIMUM = "below_minimum"
    SHORT = "short"
    SHELF_LIFE = "shelf_life"
    REFUSED = "refused"  # the order service refused the line for a reason the page's own check did not see


@dataclass(frozen=True)
class LineFacts:
    """What decides whether a line can be ordered now."""

    requested: int
    sold: bool  # an active pack size of an active product
    min_order_quantity: int
    in_stock: int  # units available now: released, unexpired lots, on hand minus allocated
    fresh_enough: int  # of those, units in lots with more than the asked (or default) shelf life left
    shelf_life_days: int | None = None


@dataclass(frozen=True)
class LineProblem:
    reason: Reason
    message: str

    def __str__(self) -> str:
        return self.message


def line_problems(facts: LineFacts) -> list[LineProblem]:
    """Every reason the line cannot be ordered as it is; empty when it can.

    Stock is the reason when not even units with less shelf life would cover the line; the shelf life is the
    reason when the units are there but expire too soon for what the buyer asked.
    """
    if not facts.sold:
        return [LineProblem(Reason.NO_LONGER_SOLD, "No longer sold: remove this line from your cart.")]
    problems = []
    if facts.requested < facts.min_order_quantity:
        problems.append(LineProblem(Reason.BELOW_MINIMUM, "The minimum order for this pack size is "
                                                          f"{units(facts.min_order_quantity)}."))
    if facts.requested > facts.in_stock:
        expiring = bool(facts.shelf_life_days) and facts.fresh_enough < facts.in_stock
        problems.append(LineProblem(Reason.SHORT, (
            f"Out of stock now: you asked for {facts.requested}. Remove this line to order the rest."
            if facts.in_stock == 0 else
            # Fewer units than asked, and fewer still that keep long enough: reducing to what is in stock would be
            # refused again, so both are said.
            f"Only {facts.in_stock} available now, and {facts.fresh_enough or 'none'} of them have more than "
            f"{facts.shelf_life_days} days of shelf life left: you asked for {facts.requested}. "
            + (f"Order at most {facts.fresh_enough}, or ask" if facts.fresh_enough else "Ask")
            + f" for a shorter minimum shelf life and at most {facts.in_stock}."
            if expiring else
            f"Only {facts.in_stock} available now: you asked for {facts.requested}. Reduce the quantity to order "
            "this line.")))
    elif facts.shelf_life_days and facts.requested > facts.fresh_enough:
        problems.append(LineProblem(Reason.SHELF_LIFE, (
            f"Only {facts.fresh_enough} of the {facts.in_stock} in stock have more than {facts.shelf_life_days} "
            f"days of shelf life left: you asked for {facts.requested}. Ask for a shorter minimum shelf life or "
            "fewer units.")))
    return problems
