"""What changed on an open order that its buyer did not change (a recall moved or shortened it, fulfilment filled
or trimmed it): the `changes` of its order.changed event, as plain values, and the words its e-mails use for them.

A change is a dict, as the webhook's JSON carries it: `{"kind": "returned" | "allocated", "sku", "lot_number",
"quantity"}` (units given back to stock, or allocated from a lot), `{"kind": "cancelled", "sku", "quantity"}`
(units that will not be delivered), `{"kind": "backordered", "sku", "quantity"}` (units the order now waits for:
the next lot released fills them, unless the buyer cancels them) or `{"kind": "total", "from", "to", "currency"}`
(decimal strings). What a line still misses after the change is `{"sku", "quantity"}` (`missing`).
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from shop.platform.wording import money, units

# Why the order changed (the event's `cause`); its `reason` says it in words.
LOT_RECALLED = "lot_recalled"
UNITS_ALLOCATED = "missing_units_allocated"
UNITS_CANCELLED = "missing_units_cancelled"
BACKORDER_CANCELLED = "backorder_cancelled"  # the buyer cancelled the units the order was waiting for


def returned(sku: str, lot_number: str, quantity: int) -> dict[str, object]:
    return {"kind": "returned", "sku": sku, "lot_number": lot_number, "quantity": quantity}


def allocated(sku: str, lot_number: str, quantity: int) -> dict[str, object]:
    return {"kind": "allocated", "sku": sku, "lot_number": lot_number, "quantity": quantity}


def cancelled(sku: str, quantity: int) -> dict[str, object]:
    return {"kind": "cancelled", "sku": sku, "quantity": quantity}


def backordered(sku: str, quantity: int) -> dict[str, object]:
    return {"kind": "backordered", "sku": sku, "quantity": quantity}


def total(before: Decimal, after: Decimal, currency: str) -> dict[str, object]:
    return {"kind": "total", "from": str(before), "to": str(after), "currency": currency}


def missing(sku: str, quantity: int) -> dict[str, object]:
    """Units a line still misses (the event's `missing`: the order is on hold until they are allocated or
    cancelled)."""
    return {"sku": sku, "quantity": quantity}


def units_of(quantity: int, what: str) -> str:
    """'1 unit of LEU-USP-25KG', '3 units of lot L-1'."""
    return f"{units(quantity)} of {what}"


def describe(change: Mapping[str, object]) -> str:
    """One change in the words of the buyer's e-mail."""
    kind = change["kind"]
    if kind == "total":
        return (f"Total: {money(Decimal(str(change['from'])), str(change['currency']))}, "
                f"now {money(Decimal(str(change['to'])), str(change['currency']))}")
    quantity, sku = int(change["quantity"]), str(change["sku"])
    if kind == "allocated":
        verb = "comes" if quantity == 1 else "come"
        return f"{units_of(quantity, sku)} now {verb} from lot {change['lot_number']}"
    if kind == "returned":
        return f"{units_of(quantity, sku)} of lot {change['lot_number']} went back to stock (lot recalled)"
    if kind == "backordered":
        return (f"{units_of(quantity, sku)} backordered: no other lot has them now; they come from the next lot we "
                "release, unless you cancel them")
    return f"{units_of(quantity, sku)} cancelled: not delivered, not charged"
