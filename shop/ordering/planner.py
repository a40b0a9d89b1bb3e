"""Allocation planning: which lots fill which needs, first-expired-first-out. Pure: plain values in and out.

One rule for every caller: placing an order (all or nothing: placing refuses an order when any need is short),
and filling orders that already exist (a recall's replacement stock, fulfilment's one-click fill: they take
what there is).

A lot may fill a need when every `LotRule` says so; the default rules are the need's shelf life (the lot must
expire strictly after `Need.not_before`) and its pinned lot (`Need.lot_number`, from `"lot_number"` on a line:
that lot only, in any letter case). Other rules slot in without rewriting `plan`:

- a customer's tighter specification: `meeting(conformance.meets)`, a `LotRule` passed in `rules` by the
  caller that read which lots meet it (shop.specifications.service.conformance);
- units held for a quote: they are allocated on their stock rows, so `StockLot.free` never counts them; the
  order that accepts the quote draws first from the rows its holds gave back (`Need.preferred`);
- one lot per line (`"single_lot"`): `Need.single_lot`, which takes the earliest lot that can fill the need
  whole;
- backordering the remainder: `Plan.missing` is exactly what could not be found, per need; a caller that
  backorders records it instead of refusing.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class StockLot:
    """A stock row that needs may draw from: its pack size, lot, expiry (or retest) date and free units."""

    stock_id: int
    variant_id: int
    batch_id: int
    expires_on: date
    free: int
    lot_number: str = ""


@dataclass(frozen=True, slots=True)
class Need:
    """Units that one order line needs of a pack size, and the date its lots must expire after."""

    key: Hashable  # the caller's name for the line (its position, its id)
    variant_id: int
    quantity: int
    not_before: date
    single_lot: bool = False
    lot_number: str | None = None  # the one lot the need may draw from (any letter case); None: any
    preferred: frozenset[int] = frozenset()  # stock rows drawn from before any other (FEFO among them), if allowed


@dataclass(frozen=True, slots=True)
class Pick:
    key: Hashable
    lot: StockLot
    quantity: int

    @property
    def stock_id(self) -> int:
        return self.lot.stock_id


@dataclass(frozen=True, slots=True)
class Plan:
    """The picks, in the needs' order and FEFO within each need, and the units each short need misses."""

    picks: tuple[Pick, ...]
    missing: dict[Hashable, int] = field(default_factory=dict)


LotRule = Callable[[Need, StockLot], bool]


def within_shelf_life(need: Need, lot: StockLot) -> bool:
    """The lot expires strictly after the need's date (its minimum remaining shelf life)."""
    return lot.expires_on > need.not_before


def pinned_lot(need: Need, lot: StockLot) -> bool:
    """A need pinned to a lot draws from that lot only (its number in any letter case)."""
    return need.lot_number is None or same_lot(lot.lot_number, need.lot_number)


def same_lot(a: str, b: str) -> bool:
    """Two spellings of one lot number: letter case and surrounding blanks aside."""
    return a.strip().lower() == b.strip().lower()


def meeting(meets: Callable[[int], bool]) -> LotRule:
    """The rule that a lot must meet a specification: `meets` answers for a lot's batch id."""
    def rule(need: Need, lot: StockLot) -> bool:
        return meets(lot.batch_id)
    return rule


DEFAULT_RULES: tuple[LotRule, ...] = (within_shelf_life, pinned_lot)


def fefo(lots: Iterable[StockLot]) -> list[StockLot]:
    """Earliest expiry first; ties by lot, then stock row, so that the order is always the same."""
    return sorted(lots, key=lambda lot: (lot.expires_on, lot.batch_id, lot.stock_id))


def plan(needs: Sequence[Need], lots: Iterable[StockLot], rules: Sequence[LotRule] = DEFAULT_RULES) -> Plan:
    """Fill each need in turn from the earliest-expiring lots of its pack size that every rule allows; the
    lots' free units are shared by the needs in order. Takes what there is; `Plan.missing` says what not."""
    free: dict[int, int] = {}
    pools: dict[int, list[StockLot]] = {}
    for lot in fefo(lots):
        free[lot.stock_id] = lot.free
        pools.setdefault(lot.variant_id, []).append(lot)
    picks: list[Pick] = []
    missing: dict[Hashable, int] = {}
    for need in needs:
        eligible = [lot for lot in pools.get(need.variant_id, ()) if all(rule(need, lot) for rule in rules)]
        taken = _fill(need, eligible, free)
        picks += taken
        short = need.quantity - sum(pick.quantity for pick in taken)
        if short > 0:
            missing[need.key] = short
    return Plan(tuple(picks), missing)


def _fill(need: Need, eligible: list[StockLot], free: dict[int, int]) -> list[Pick]:
    """The picks for one need from its eligible lots (in FEFO order, its preferred rows first), taking them out
    of `free`."""
    if need.preferred:
        eligible = sorted(eligible, key=lambda lot: lot.stock_id not in need.preferred)  # stable: FEFO within
    if need.single_lot:
        whole = next((lot for lot in eligible if free[lot.stock_id] >= need.quantity), None)
        eligible = [whole] if whole is not None else []
    picks, remaining = [], need.quantity
    for lot in eligible:
        if remaining <= 0:
            break
        take = min(free[lot.stock_id], remaining)
        if take > 0:
            free[lot.stock_id] -= take
            remaining -= take
            picks.append(Pick(need.key, lot, take))
    return picks


