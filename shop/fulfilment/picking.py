"""Which allocated units a shipment takes: a pure function over plain values, so that its rules (never more than a
line has allocated, never from a recalled lot, earliest expiry first unless staff name the lot) are tested without
a database. `shipments.ship` reads the order into these values, calls `pick`, and writes what it answers."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from shop.platform.bounds import INT_MAX
from shop.platform.wording import units


@dataclass(frozen=True)
class Pick:
    """Units of one order line (by its position) to ship now: from `lot_number` when given, else earliest expiry
    first. `quantity` is as the caller got it (a form, a script): `pick` checks it."""

    position: int
    quantity: object
    lot_number: str | None = None


@dataclass(frozen=True)
class Held:
    """Units of a line allocated (not shipped) from one lot, by one allocation."""

    allocation_id: int
    lot_number: str
    expires_on: date
    quantity: int
    recalled: bool = False


@dataclass(frozen=True)
class LineHolding:
    """What a line may ship from: its allocations not shipped yet."""

    position: int
    sku: str
    held: tuple[Held, ...]


def shape_errors(picks: Iterable[Pick]) -> dict[str, list[str]]:
    """What is wrong with the picks whatever the order holds (a quantity that is not a whole number of units, 0 or
    more; a lot number that is not text), by field path `lines.<position>.quantity` / `.lot_number`."""
    errors: dict[str, list[str]] = {}
    for p in picks:
        q = p.quantity
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= INT_MAX:
            errors[f"lines.{p.position}.quantity"] = ["Enter a whole number of units, 0 or more."]
        if p.lot_number is not None and not isinstance(p.lot_number, str):
            errors[f"lines.{p.position}.lot_number"] = ["Must be a lot number."]
    return errors


def pick(picks: Sequence[Pick], lines: Sequence[LineHolding]) -> tuple[dict[int, int], dict[str, list[str]]]:
    """The units to take from each allocation (allocation id -> units) for `picks` (their shapes checked), and the
    errors by field path that refuse them: a line the order does not have, a lot the line holds no units of or one
    that is recalled, more units than the line (or the named lot) holds unshipped, or nothing at all. Picks of one
    line add up, each taking from what the ones before it left."""
    by_position = {line.position: line for line in lines}
    left = {h.allocation_id: h.quantity for line in lines for h in line.held}
    taken: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for p in picks:
        line = by_position.get(p.position)
        if line is None:
            errors[f"lines.{p.position}"] = [f"The order has no line {p.position}."]
            continue
        if p.quantity == 0:
            continue
        sources, problem = _sources(line, p.lot_number)
        if problem:
            errors[f"lines.{p.position}.lot_number"] = [problem]
            continue
        available = sum(left[h.allocation_id] for h in sources)
        if p.quantity > available:
            errors[f"lines.{p.position}.quantity"] = [_too_many(line, p, available)]
            continue
        wanted = int(p.quantity)
        for h in sources:
            n = min(wanted, left[h.allocation_id])
            if n:
                left[h.allocation_id] -= n
                taken[h.allocation_id] = taken.get(h.allocation_id, 0) + n
                wanted -= n
    if not taken and not errors:
        errors["lines"] = ["Choose at least one unit to ship."]
    return taken, errors


def _sources(line: LineHolding, lot_number: str | None) -> tuple[list[Held], str]:
    """The allocations a pick takes from, earliest expiry first (recalled lots never), or why it cannot."""
    if lot_number:
        named = [h for h in line.held if h.lot_number.upper() == lot_number.strip().upper()]
        if not named:
            return [], f"{line.sku} has no units of lot {lot_number.strip()} allocated and not shipped."
        if named[0].recalled:
            return [], f"Lot {named[0].lot_number} is recalled: its units cannot ship."
        return named, ""
    return sorted((h for h in line.held if not h.recalled), key=lambda h: (h.expires_on, h.allocation_id)), ""


def _too_many(line: LineHolding, p: Pick, available: int) -> str:
    """Why `p` asks too much: what the line (or lot) has to ship, and the units that a recall keeps back."""
    where = f" from lot {p.lot_number.strip()}" if p.lot_number else ""
    verb = "is" if available == 1 else "are"
    message = f"Only {units(available)} of {line.sku}{where} {verb} allocated and not shipped, not {p.quantity}."
    recalled = sorted({h.lot_number for h in line.held if h.recalled})
    if recalled and not p.lot_number:
        message += f" Units of recalled lot{'s' if len(recalled) > 1 else ''} {', '.join(recalled)} cannot ship."
    return message


def shippable(line: LineHolding) -> int:
    """Units of a line that may ship now: allocated, not shipped, not from a recalled lot."""
    return sum(h.quantity for h in line.held if not h.recalled)
