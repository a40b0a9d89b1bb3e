"""What cancelling an order would do, shown before anyone confirms it: the units that go back to stock."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shop.ordering.models import AllocationStatus, Order


@dataclass(frozen=True)
class ReturnedUnits:
    """Units of one pack size that one lot holds for the order and gets back."""

    lot_number: str
    sku: str
    pack_size_kg: Decimal
    units: int

    @property
    def kg(self) -> Decimal:
        return self.pack_size_kg * self.units


@dataclass(frozen=True)
class CancellationPreview:
    number: str
    total: Decimal
    currency: str
    returned: tuple[ReturnedUnits, ...]

    @property
    def kg(self) -> Decimal:
        return sum((r.kg for r in self.returned), Decimal(0))

    @property
    def packages(self) -> int:
        return sum(r.units for r in self.returned)


def preview_cancellation(order: Order) -> CancellationPreview:
    """The order's live allocations, lot by lot: what a cancellation would release. Reads what is loaded (the
    order with its lines' pack sizes and allocations' lots, as the order pages load it); changes nothing."""
    returned = tuple(
        ReturnedUnits(a.stock.batch.lot_number, line.sku, line.variant.pack_size_kg, a.quantity)
        for line in order.lines for a in line.allocations if a.status == AllocationStatus.ALLOCATED
    )
    return CancellationPreview(order.number, order.total, order.currency, returned)
