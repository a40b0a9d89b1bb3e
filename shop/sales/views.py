"""The quote as the API shows it: one view (a marshmallow schema) for `GET /api/v1/quotes/<number>`, the list, and
the data of the quote events, so that a webhook's payload is exactly what the API answers."""
from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_dump

from shop.platform.fields import DecimalString, OutSchema
from shop.sales.models import Quote, QuoteLine, QuoteStatus


class QuoteLineSchema(OutSchema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = DecimalString(places=2, required=True, allow_none=True,
                               metadata={"description": "Sales' price per unit; null until the quote is answered."})
    line_total = DecimalString(places=2, required=True, allow_none=True,
                               metadata={"description": "`unit_price` × `quantity`; null until answered."})
    held_quantity = fields.Integer(required=True, metadata={
        "description": "Units set aside for this line (unavailable to anyone else) until the quote is accepted, "
                       "declined, withdrawn or expires; 0 without a hold."})

    @pre_dump
    def _line(self, line: QuoteLine, **kwargs: Any) -> dict[str, Any]:
        total = line.unit_price * line.quantity if line.unit_price is not None else None
        return {"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price, "line_total": total,
                "held_quantity": line.held_quantity}


class QuoteSchema(OutSchema):
    number = fields.String(required=True, metadata={"example": "Q-2026-00012"})
    status = fields.String(required=True, metadata={"enum": [s.value for s in QuoteStatus]})
    requested_at = fields.DateTime(required=True)
    requested_by = fields.String(required=True, metadata={
        "description": "Who asked: the API key's name, else the person's e-mail."})
    lines = fields.List(fields.Nested(QuoteLineSchema), required=True)
    min_remaining_shelf_life_days = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The shelf life the buyer needs on delivery; null: the shop's default."})
    needed_by = fields.Date(required=True, allow_none=True)
    note = fields.String(required=True, metadata={"description": "The buyer's note."})
    valid_until = fields.Date(required=True, allow_none=True, metadata={
        "description": "The last day (UTC) the quote may be accepted; null until answered."})
    hold = fields.Boolean(required=True, metadata={"description": "Whether sales set the units aside."})
    answer_note = fields.String(required=True, metadata={"description": "Sales' note with the answer."})
    order = fields.String(required=True, allow_none=True, metadata={
        "description": "The number of the order that accepting the quote placed; null before."})

    @pre_dump
    def _quote(self, quote: Quote, **kwargs: Any) -> dict[str, Any]:
        return {"number": quote.number, "status": quote.status.value, "requested_at": quote.requested_at,
                "requested_by": quote.requested_by, "lines": quote.lines,
                "min_remaining_shelf_life_days": quote.min_remaining_shelf_life_days, "needed_by": quote.needed_by,
                "note": quote.note, "valid_until": quote.valid_until, "hold": quote.hold,
                "answer_note": quote.answer_note, "order": quote.order.number if quote.order is not None else None}


_SCHEMA = QuoteSchema()


def quote(quote: Quote) -> dict[str, Any]:
    """The quote's view: JSON-ready data (the API's answer, an event's data)."""
    return _SCHEMA.dump(quote)
