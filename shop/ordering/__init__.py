"""Placing orders and moving them through their life cycle: the one order engine that the API, the storefront
and the staff pages call. A newcomer reads it in this order:

- `checks`: the request's checks, with field-path errors;
- `reading`: one statement for everything an order needs (pack sizes, prices, candidate lots);
- `pricing`: a line's unit price, from a pricing policy;
- `planner`: first-expired-first-out allocation, a pure function over plain values;
- `rows`: the rows a new order writes, and the PlacedOrder they show;
- `persistence` and `pg_write`: writing them and taking the stock without overselling (the stock side is
  inventory.ledger's SQL);
- `idempotency`: one outcome per idempotency key, given again to retries;
- `placing`: the pipeline, top to bottom;
- `lifecycle`: who may move an order from which status to which, and `move`;
- `actions`: confirm, deliver, cancel (shipping is fulfilment's);
- `changes` and `announce`: what the buyer is told when an open order changes without them (order.changed), and
  every other event ordering announces;
- `queries`: reading orders for pages and the API.
"""
from __future__ import annotations

from shop.ordering.actions import cancel_order, confirm_order, deliver_order
from shop.ordering.checks import MAX_LINES, MAX_SHELF_LIFE_DAYS, LineRequest, unknown_sku_message
from shop.ordering.lifecycle import TRANSITIONS, Actor, CustomerRef, Transition, move
from shop.ordering.placing import Placed, PlaceOrder, new_order_number, place, place_order, placed_with_key
from shop.ordering.pricing import CONTRACT_PRICES, PUBLIC_PRICES, Price, PricingPolicy
from shop.ordering.queries import (
    canonical_number,
    get_order,
    list_changed_orders,
    list_orders,
    order_number_is,
    unknown_skus,
)
from shop.ordering.rows import PlacedAllocation, PlacedLine, PlacedOrder

__all__ = [
    "CONTRACT_PRICES", "MAX_LINES", "MAX_SHELF_LIFE_DAYS", "PUBLIC_PRICES", "TRANSITIONS",
    "Actor", "CustomerRef", "LineRequest", "PlaceOrder", "Placed", "PlacedAllocation", "PlacedLine", "PlacedOrder",
    "Price", "PricingPolicy", "Transition",
    "cancel_order", "canonical_number", "confirm_order", "deliver_order", "get_order", "list_changed_orders",
    "list_orders", "move",
    "new_order_number", "order_number_is", "place", "place_order", "placed_with_key",
    "unknown_sku_message", "unknown_skus",
]
