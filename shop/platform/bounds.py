"""What the database's columns can hold, so that ids, counts and dates from URLs and forms are checked up front.

A value outside these bounds is a 4xx with a message, never an overflow inside the database (a 500).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from werkzeug.routing import IntegerConverter

# Integer columns (ids, units, quantities) are 32-bit on PostgreSQL.
INT_MAX = 2**31 - 1
# Dates people enter or filter by; Python's own range ends at 9999-12-31, and a filter's "day after the last
# day" must still be a date.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)


def is_row_id(value: Any) -> bool:
    """Whether `value` can be the id of a row: a positive int (not a bool) that fits its column."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT_MAX


def is_plain_date(value: Any) -> bool:
    return isinstance(value, date) and MIN_DATE <= value <= MAX_DATE


class RowIdConverter(IntegerConverter):
    """`<id:name>` in a route: a row id; anything else (0, 99999999999, 'x') matches no route, so it is a 404."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:  # noqa: A002  (werkzeug's signature)
        super().__init__(map, min=1, max=INT_MAX)
