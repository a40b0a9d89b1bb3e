"""Fulfilment: what happens to an order between its confirmation and its last unit leaving the warehouse.

- `shipments`: staff ship an order in one or more shipments (`<order>-S1`, `-S2`…), each from its allocations,
  earliest-expiring lot first unless they pick one; the order is partially_shipped until every unit not cancelled
  has shipped;
- `backorders`: units an order waits for (the buyer allowed a backorder, or a recall took units no other lot could
  replace) are allocated when a lot is released, oldest order first, or cancelled by the buyer; what staff see of
  them.

The order, its lines, allocations and shipments are ordering's models; this area moves them.
"""
from __future__ import annotations

from shop.fulfilment.picking import Pick
from shop.fulfilment.remainder import cancel_backorder
from shop.fulfilment.shipments import holdings, ship, ship_order, to_come

__all__ = ["Pick", "cancel_backorder", "holdings", "ship", "ship_order", "to_come"]
