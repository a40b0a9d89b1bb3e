"""Keyset cursors: one codec for the API's and the staff pages' lists (base64url of the last row's sort key,
tagged with the list's name), and the staff pages' page of rows."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shop.platform.bounds import INT_MAX, MAX_DATE, MIN_DATE
from shop.platform.errors import InvalidInput

MAX_PAGE = 200
_INVALID = "Invalid cursor: pass `next_cursor` from the previous page unchanged."
# The longest cursor the shop makes is a list name, a time and a 64-bit id: well under this.
MAX_CURSOR_LENGTH = 200

# What each list's sort key is made of, in order; a cursor must match its list. The API's lists and the staff
# pages' lists (newest first on a time and the row's id) share the codec.
_KEYS = {"orders": (datetime, int), "changed-orders": (datetime, int), "events": (int,),
         "products": (int, int), "deliveries": (int,), "ledger": (datetime, int),
         "batches": (datetime, int), "audit": (datetime, int), "short-orders": (datetime, int),
         "backorders": (datetime, int), "complaints": (datetime, int), "quotes": (datetime, int),
         "sales-queue": (int, datetime, int), "samples": (datetime, int), "invoices": (date, int)}


def encode_cursor(kind: str, *values: Any) -> str:
    """The cursor that continues list `kind` after the row whose sort key is `values`."""
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]  # a datetime is a date too
    raw = json.dumps([kind, *plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(kind: str, cursor: str) -> tuple[Any, ...]:
    """The sort key inside a cursor of list `kind`; ValueError for anything else."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError(_INVALID)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    # RecursionError: brackets nested deeper than the decoder recurses (a hand-made cursor, never one of ours).
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError(_INVALID) from None
    types = _KEYS[kind]
    if not isinstance(data, list) or len(data) != len(types) + 1 or data[0] != kind:
        raise ValueError(_INVALID)
    values: list[Any] = []
    for value, kind_of in zip(data[1:], types, strict=True):
        if kind_of is int and isinstance(value, int) and not isinstance(value, bool) \
                and -INT_MAX - 1 <= value <= INT_MAX:  # what an Integer column holds
            values.append(value)
        elif kind_of is datetime and isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(_INVALID) from None
            if moment.tzinfo is None or not MIN_DATE <= moment.date() <= MAX_DATE:
                raise ValueError(_INVALID)
            values.append(moment)
        elif kind_of is date and isinstance(value, str):
            values.append(_day(value))
        else:
            raise ValueError(_INVALID)
    return tuple(values)


def _day(value: str) -> date:
    """A cursor's day (an invoice's issue date): a plain ISO date within the shop's bounds."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(_INVALID) from None
    if len(value) != 10 or not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(_INVALID)
    return day


def page_cursor(kind: str, cursor: str) -> tuple[Any, ...]:
    """A staff page's `?cursor=`: the sort key, or InvalidInput beside the field (a page answers 400)."""
    try:
        return decode_cursor(kind, cursor)
    except ValueError:
        raise InvalidInput({"cursor": ["This page link is no longer valid; start from the first page."]}) from None


@dataclass
class Page:
    rows: list
    next_cursor: str | None


def page_of(kind: str, rows: list, limit: int, key) -> Page:
    """The first `limit` of `rows` (one more was read to know there is a next page) and the next page's cursor."""
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor(kind, *key(rows[-1])))
    return Page(rows, None)
