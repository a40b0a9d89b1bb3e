"""The API's `?cursor=` parameter: the platform's keyset cursor codec as a marshmallow field."""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from shop.platform.pagination import decode_cursor, encode_cursor

MAX_LIMIT = 100
__all__ = ["MAX_LIMIT", "Cursor", "encode_cursor"]


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
