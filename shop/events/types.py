"""The event types that the shop announces and that webhook endpoints may subscribe to."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

# DESIGN.md's list; the types of issues still open join it as they land.
EVENT_TYPES = (
    "order.placed", "order.approved", "order.confirmed", "order.shipped", "order.delivered", "order.cancelled",
    "order.backorder_allocated", "order.needs_attention", "quote.answered", "quote.expired", "invoice.issued",
    "lot.recalled",
)
