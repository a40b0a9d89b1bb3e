"""Opaque keyset cursors for the API's lists: base64url of the last row's sort key, tagged with the list's name."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from marshmallow import ValidationError, fields

from shop.platform.bounds import INT_MAX, MAX_DATE, MIN_DATE

MAX_LIMIT = 100
_INVALID = "Invalid cursor: pass `next_cursor` from the previous page unchanged."

# What each list's sort key is made of, in order; a cursor must match its list.
_KEYS = {"orders": (datetime, int), "products": (int, int), "deliveries": (int,)}


def encode_cursor(kind: str, *values: Any) -> str:
    """The cursor that continues list `kind` after the row whose sort key is `values`."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps([kind, *plain], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(kind: str, cursor: str) -> tuple[Any, ...]:
    """The sort key inside a cursor of list `kind`; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
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
        else:
            raise ValueError(_INVALID)
    return tuple(values)


class Cursor(fields.String):
    """A `?cursor=` query parameter of one list, loaded as that list's sort key tuple."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind = kind

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[Any, ...]:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return decode_cursor(self.kind, text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
