"""The pure rules of quotes: which status may follow which (one table), what a request must say, and how sales
write a price and a date. Plain values in, plain values (and messages by field path) out."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shop.ordering.checks import MAX_LINE_QUANTITY, MAX_LINES, MAX_SHELF_LIFE_DAYS  # an accepted quote is an order
from shop.platform.amounts import parse_amount
from shop.sales.models import QuoteStatus

MAX_NOTE = 2000  # characters: the buyer's note, and sales' answer

Errors = dict[str, list[str]]

# The only moves a quote makes. Answered: sales priced it. From there, through its last valid day (is_open), the
# buyer accepts or declines it; sales withdraw it, or its last day passes (expired). Sales may also withdraw one not
# yet answered; the buyer has nothing to decline until it is (DESIGN: 409 quote-not-open).
TRANSITIONS: dict[QuoteStatus, frozenset[QuoteStatus]] = {
    QuoteStatus.REQUESTED: frozenset({QuoteStatus.ANSWERED, QuoteStatus.WITHDRAWN}),
    QuoteStatus.ANSWERED: frozenset({QuoteStatus.ACCEPTED, QuoteStatus.DECLINED, QuoteStatus.WITHDRAWN,
                                     QuoteStatus.EXPIRED}),
    QuoteStatus.ACCEPTED: frozenset(),
    QuoteStatus.DECLINED: frozenset(),
    QuoteStatus.EXPIRED: frozenset(),
    QuoteStatus.WITHDRAWN: frozenset(),
}


def may_move(current: QuoteStatus, target: QuoteStatus) -> bool:
    """Whether a quote in `current` may move to `target` (TRANSITIONS)."""
    return target in TRANSITIONS[current]


def is_open(status: QuoteStatus, valid_until: date | None, today: date) -> bool:
    """Whether the buyer may still accept or decline: answered, and valid through today (UTC), whether or not the
    expiry job has run."""
    return status == QuoteStatus.ANSWERED and valid_until is not None and today <= valid_until


def parse_price(value: object) -> Decimal | None:
    """A unit price from sales: a positive amount with at most two places (platform.amounts.parse_amount); None for
    anything else (a float, "1,500", "1e3", "-1", "0", "1.505")."""
    return parse_amount(value)


def parse_day(value: object) -> date | None:
    """A calendar day: a date, or an ISO string "2026-12-31"; None for anything else."""
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()) if len(value.strip()) == 10 else None
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class QuoteRequest:
    """A request after its checks: the lines (SKU, units) as asked, and the values parsed."""

    lines: tuple[tuple[str, int], ...]
    shelf_life_days: int | None
    needed_by: date | None
    note: str


def request_errors(lines: Sequence[Mapping[str, object]] | object, shelf_life_days: object, needed_by: object,
                   note: object, today: date) -> tuple[QuoteRequest, Errors]:
    """The request with what is wrong with it, by field path, that needs no catalog (an unknown SKU does)."""
    errors: Errors = {}
    parsed: list[tuple[str, int]] = []
    if not isinstance(lines, Sequence) or isinstance(lines, str | bytes) or not lines:
        errors["lines"] = ["A quote needs at least one line."]
    elif len(lines) > MAX_LINES:
        errors["lines"] = [f"At most {MAX_LINES} lines per quote."]
    else:
        seen: dict[str, int] = {}
        for i, line in enumerate(lines):
            sku, quantity = (line.get("sku"), line.get("quantity")) if isinstance(line, Mapping) else (None, None)
            if not isinstance(sku, str) or not sku.strip():
                errors[f"lines.{i}.sku"] = ["A SKU is required."]
            elif sku.strip() in seen:
                errors[f"lines.{i}.sku"] = [f"{sku.strip()} is already on line {seen[sku.strip()]}; "
                                            "put the whole quantity on one line."]
            else:
                seen[sku.strip()] = i
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                errors[f"lines.{i}.quantity"] = ["The quantity must be a whole number of units, at least 1."]
            elif quantity > MAX_LINE_QUANTITY:
                errors[f"lines.{i}.quantity"] = [f"At most {MAX_LINE_QUANTITY:,} units per line."]
            if isinstance(sku, str) and isinstance(quantity, int):
                parsed.append((sku.strip(), quantity))
    if shelf_life_days is not None and (isinstance(shelf_life_days, bool) or not isinstance(shelf_life_days, int)
                                        or not 0 <= shelf_life_days <= MAX_SHELF_LIFE_DAYS):
        errors["min_remaining_shelf_life_days"] = [f"A whole number of days from 0 to {MAX_SHELF_LIFE_DAYS}."]
    day = parse_day(needed_by) if needed_by not in (None, "") else None
    if needed_by not in (None, "") and day is None:
        errors["needed_by"] = ["A date, as 2026-12-31."]
    elif day is not None and day < today:
        errors["needed_by"] = ["This date has passed: choose today or a later day."]
    text = note_errors(note, "note", errors)
    shelf = shelf_life_days if "min_remaining_shelf_life_days" not in errors else None
    return QuoteRequest(tuple(parsed), shelf, day, text), errors  # type: ignore[arg-type]


def answer_errors(prices: Mapping[int, object], positions: Sequence[int], valid_until: object, note: object,
                  today: date) -> tuple[dict[int, Decimal], date | None, str, Errors]:
    """Sales' answer checked: a unit price for every line (by position), the last valid day (today or later,
    UTC) and the note; with what is wrong by field path."""
    errors: Errors = {}
    parsed: dict[int, Decimal] = {}
    for position in positions:
        price = parse_price(prices.get(position))
        if price is None:
            errors[f"lines.{position}.unit_price"] = [
                "A positive amount with at most two decimals, written 1500.00 (no thousands separator)."]
        else:
            parsed[position] = price
    day = parse_day(valid_until)
    if day is None:
        errors["valid_until"] = ["A date, as 2026-12-31."]
    elif day < today:
        errors["valid_until"] = ["This date has passed: the quote must be valid through today or later."]
    text = note_errors(note, "note", errors)
    return parsed, day, text, errors


def note_errors(note: object, field: str, errors: Errors) -> str:
    """A note as stored (stripped; none is ""), adding to `errors` when it is not text or too long."""
    if note is None:
        return ""
    if not isinstance(note, str):
        errors[field] = ["Must be text."]
        return ""
    if len(note.strip()) > MAX_NOTE:
        errors[field] = [f"At most {MAX_NOTE} characters (this has {len(note.strip())})."]
    return note.strip()
