"""The event types that the shop announces, and that webhook endpoints may subscribe to: exactly those (a test reads
every place that writes an event, and drives each type through a real flow). The types of DESIGN.md's open
capabilities join the list with the code that announces them."""
from __future__ import annotations

EVENT_TYPES = (
    "order.placed", "order.approved", "order.changed", "order.confirmed", "order.shipped", "order.delivered",
    "order.cancelled", "order.rejected", "order.needs_attention", "order.backorder_allocated", "lot.recalled",
    "complaint.updated", "quote.answered", "quote.expired", "invoice.issued",
)
