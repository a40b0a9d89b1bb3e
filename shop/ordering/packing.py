"""What a packing slip weighs (per line and in total, net and gross kg and the number of packages), and what it says
about a line's units that are not there to pick."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shop.inventory.models import DateKind
from shop.platform.wording import units


@dataclass(frozen=True)
class PackedLine:
    """`packages` packs of one pack size: a pack is one package (a bag, a drum, a big bag)."""

    sku: str
    pack_size_kg: Decimal
    tare_kg: Decimal | None  # None: the packaging was never weighed
    packages: int

    @property
    def net_kg(self) -> Decimal:
        return self.pack_size_kg * self.packages

    @property
    def gross_kg(self) -> Decimal | None:
        return None if self.tare_kg is None else (self.pack_size_kg + self.tare_kg) * self.packages


@dataclass(frozen=True)
class Shipment:
    lines: tuple[PackedLine, ...]

    @property
    def packages(self) -> int:
        return sum(line.packages for line in self.lines)

    @property
    def net_kg(self) -> Decimal:
        return sum((line.net_kg for line in self.lines), Decimal(0))

    @property
    def gross_kg(self) -> Decimal | None:
        """The total gross weight, or None when any line's packaging weight is unknown (a total that leaves
        a line out would understate what the carrier lifts)."""
        weights = [line.gross_kg for line in self.lines]
        return None if None in weights else sum(weights, Decimal(0))

    @property
    def unweighed(self) -> list[str]:
        """SKUs whose packaging weight is unknown."""
        return [line.sku for line in self.lines if line.tare_kg is None]


def shipment(lines: Iterable[tuple[str, Decimal, Decimal | None, int]]) -> Shipment:
    """A shipment from (sku, pack size kg, tare kg or None, packages) per line."""
    return Shipment(tuple(PackedLine(*line) for line in lines))


@dataclass(frozen=True)
class SlipLot:
    """Units of one lot to pick for a line, with the lot's date (an expiry or a retest date, as `date_kind` says)."""

    lot_number: str
    date_kind: DateKind
    expires_on: date
    quantity: int


@dataclass(frozen=True)
class SlipNote:
    """What the slip says under a line about units not there to pick; `short`: some are still to be allocated."""

    text: str
    short: bool


def line_note(ordered: int, cancelled: int, held: int, flagged: bool, shipped: int = 0) -> SlipNote:
    """The note under a line, as things are now: units that left already in earlier shipments (`shipped`, not
    among the `held` units to pick), units cancelled (they could not be supplied), units still to allocate
    (pointing at the order's attention note only while the order is flagged), and "Nothing to pack." when the line
    holds no unit to pick; no text when it holds all it is to deliver."""
    missing = ordered - cancelled - shipped - held
    notes = []
    if shipped:
        notes.append(f"{units(shipped)} shipped already: not to pick again (see the shipments' slips).")
    if cancelled:
        notes.append(f"{units(cancelled)} cancelled: they could not be supplied.")
    if missing > 0:
        see = ": see the order's attention note" if flagged else " on the order's page"
        notes.append(f"{missing} of {units(ordered - cancelled)} not allocated yet: allocate them{see} before "
                     "packing.")
    if notes and not held:
        notes.append("Nothing to pack.")
    return SlipNote(" ".join(notes), missing > 0)


def to_follow(left: int) -> SlipNote:
    """The note under a line of one shipment's slip: the units of the line still to ship after it, if any."""
    return SlipNote(f"{units(left)} of this line to follow in a later shipment." if left else "", False)
