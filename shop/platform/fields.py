"""Marshmallow building blocks shared by every read model and the API: decimal strings, the output base schema."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields


class DecimalString(fields.String):
    """A decimal number written as a string, so that no client parses money or limits as a float.

    With `places`, always that many decimals ("1950.00"); without, no trailing zeros ("0.2", "131.17").
    """

    def __init__(self, *, places: int | None = None, **kwargs: Any) -> None:
        metadata = {"format": "decimal", **({"example": "1950.00"} if places == 2 else {}),
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, dump_only=True, **kwargs)
        self.places = places

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        value = Decimal(value)
        if self.places is not None:
            return str(value.quantize(Decimal(1).scaleb(-self.places)))
        return format(value.normalize(), "f")


class OutSchema(Schema):
    """Base of response schemas: documented with every member they emit, nothing else."""
