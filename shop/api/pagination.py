"""The API's `?cursor=` parameter: the platform's keyset cursor codec as a marshmallow field."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from shop.platform.pagination import decode_cursor, encode_cursor

MAX_LIMIT = 100
DESCRIPTION = "`next_cursor` of the previous page; empty or absent: the first page."
__all__ = ["MAX_LIMIT", "Cursor", "encode_cursor"]


class Cursor(fields.String):
    """A `?cursor=` query parameter of one list, loaded as that list's sort key tuple; left empty (or blank) it
    is the first page, as if absent (loaded as None), for clients that always send the parameter."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        kwargs["metadata"] = {"description": DESCRIPTION, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)
        self.kind = kind

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[Any, ...] | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            return None
        try:
            return decode_cursor(self.kind, text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
