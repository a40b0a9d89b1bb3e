"""JSON request bodies within bounds: nesting depth and the size of numbers, checked while parsing.

Python's parser follows any nesting until the interpreter's recursion limit (a RecursionError, not a
ValueError) and turns any run of digits into an int, refusing only beyond 4,300 digits with a ValueError that
no caller expects. No request of the shop nests deeper than a few levels or needs a number longer than a
bank account's: anything beyond is refused as malformed JSON (400), before a view sees it.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32
MAX_NUMBER_LENGTH = 40  # characters of one number as written: '-12345.678e-9'


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError(f"a number longer than {MAX_NUMBER_LENGTH} characters")
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError(f"a number longer than {MAX_NUMBER_LENGTH} characters")
    value = float(text)
    if not Decimal(text).is_finite() or value in (float("inf"), float("-inf")):
        raise ValueError("a number too large to represent")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """How deeply containers nest in a parsed value (a scalar is 0), without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def loads_bounded(data: str | bytes, **kwargs: Any) -> Any:
    """json.loads that raises ValueError for nesting deeper than MAX_DEPTH, over-long numbers and NaN/Infinity."""
    try:
        value = json.loads(data, parse_int=_bounded_int, parse_float=_bounded_float,
                           parse_constant=_refuse_constant, **kwargs)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    if _depth(value) > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, parsing request bodies with loads_bounded."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_bounded(s, **kwargs)
