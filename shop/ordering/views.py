"""The order as the API shows it: one view (a marshmallow schema) for the API's answer and the data of every
order event, so that a webhook's payload is exactly what `GET /api/v1/orders/<number>` answers."""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from marshmallow import fields, pre_dump

from shop.accounts.models import PREPAID
from shop.documents.views import DocumentSchema
from shop.inventory.models import BatchStatus
from shop.invoicing.models import VatRule
from shop.ordering import documents
from shop.ordering.models import Order, OrderLine, OrderStatus, Shipment
from shop.ordering.rows import PlacedLine, PlacedOrder
from shop.platform.fields import DecimalString, OutSchema
from shop.platform.mail import absolute_url


class AllocationSchema(OutSchema):
    lot_number = fields.String(required=True)
    quantity = fields.Integer(required=True)
    expires_on = fields.Date(required=True)
    recalled = fields.Boolean(required=True, metadata={"description": "The lot has been recalled: see `notices`."})


class OrderLineSchema(OutSchema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)
    unit_price = DecimalString(places=2, required=True,
                               metadata={"description": "Captured when the order was placed (price breaks applied)."})
    line_total = DecimalString(places=2, required=True, metadata={
        "description": "The line's amount: `unit_price` × (`quantity` - `cancelled_quantity`), the units it "
                       "delivers or delivered. Shipping does not change it. A cancelled order keeps its lines' "
                       "amounts as they stood when it was cancelled (the record of what was ordered); its "
                       "status says that none of it is delivered or charged."})
    cancelled_quantity = fields.Integer(required=True, metadata={
        "description": "Units of the line cancelled because they could not be supplied (0 normally)."})
    backordered_quantity = fields.Integer(required=True, metadata={
        "description": "Units of the line waiting for stock: allocated when a lot is released (oldest order "
                       "first), unless cancelled first (`POST /orders/<number>/cancel-backorder`)."})
    shipped_quantity = fields.Integer(required=True, metadata={
        "description": "Units of the line that have shipped, in any of the order's `shipments`."})
    allocations = fields.List(fields.Nested(AllocationSchema), required=True,
                              metadata={"description": "Lots the line draws from (allocated or shipped)."})
    pack_size_kg = DecimalString(required=True, metadata={
        "description": "Net mass of one unit (pack) of the SKU, in kg.", "example": "25"})
    lot_number = fields.String(required=True, allow_none=True, metadata={
        "description": "The lot the line is pinned to (it draws from that lot only); null: any lot, "
                       "first-expired-first-out.", "example": "L2611-042"})
    net_mass_kg = DecimalString(required=True, metadata={
        "description": "Net mass the line delivers, in kg: `pack_size_kg` × (`quantity` - `cancelled_quantity`).",
        "example": "100"})

    @pre_dump
    def _live_allocations(self, line: OrderLine | PlacedLine, **kwargs: Any) -> dict[str, Any]:
        pack_size_kg = line.pack_size_kg if isinstance(line, PlacedLine) else line.variant.pack_size_kg
        return {"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price,
                "line_total": line.line_total, "cancelled_quantity": line.cancelled_quantity,
                "backordered_quantity": line.backordered_quantity, "shipped_quantity": line.shipped_quantity,
                "allocations": _allocations(line), "pack_size_kg": pack_size_kg, "lot_number": line.lot_number,
                "net_mass_kg": pack_size_kg * line.wanted}


def _allocations(line: OrderLine | PlacedLine) -> Sequence[Any]:
    """The lots a line draws from: a new order's as placed; else the allocations that still hold stock (those
    returned to stock, by a cancelled order or a recalled lot, no longer bind any to the line)."""
    if isinstance(line, PlacedLine):
        return line.allocations
    return [{"lot_number": a.stock.batch.lot_number, "quantity": a.quantity, "expires_on": a.stock.batch.expires_on,
             "recalled": a.stock.batch.status == BatchStatus.RECALLED} for a in line.allocations if a.status.live]


class NoticeSchema(OutSchema):
    kind = fields.String(required=True, metadata={"enum": ["recall"]})
    lot_number = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "What the customer is told, as published."})


class ShipmentLineSchema(OutSchema):
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)
    lot_number = fields.String(required=True)


class ShipmentSchema(OutSchema):
    number = fields.String(required=True, metadata={"example": "LS-261126-7KQ4M-S1"})
    shipped_at = fields.DateTime(required=True)
    carrier = fields.String(required=True, allow_none=True)
    tracking_reference = fields.String(required=True)
    lines = fields.List(fields.Nested(ShipmentLineSchema), required=True,
                        metadata={"description": "Units shipped, per SKU and lot."})

    @pre_dump
    def _lines(self, shipment: Shipment, **kwargs: Any) -> dict[str, Any]:
        return {"number": shipment.number, "shipped_at": shipment.shipped_at, "carrier": shipment.carrier or None,
                "tracking_reference": shipment.tracking_reference, "lines": shipment_lines(shipment)}


def shipment_lines(shipment: Shipment) -> list[dict[str, Any]]:
    """A shipment's units per SKU and lot, in the order's line order (a line split over lots: one item a lot)."""
    units: dict[tuple[int, str, str], int] = {}
    for a in sorted(shipment.allocations, key=lambda a: (a.line.position, a.id)):
        key = (a.line.position, a.line.sku, a.stock.batch.lot_number)
        units[key] = units.get(key, 0) + a.quantity
    return [{"sku": sku, "quantity": n, "lot_number": lot} for (_, sku, lot), n in units.items()]


class AddressOutSchema(OutSchema):
    name = fields.String(required=True)
    line1 = fields.String(required=True)
    line2 = fields.String(required=True, allow_none=True)
    city = fields.String(required=True)
    postal_code = fields.String(required=True)
    country = fields.String(required=True)


# The life-cycle times an order shows: when it last entered each of these statuses (null until it has).
_STATUS_TIMES = {"confirmed_at": OrderStatus.CONFIRMED, "shipped_at": OrderStatus.SHIPPED,
                 "delivered_at": OrderStatus.DELIVERED, "cancelled_at": OrderStatus.CANCELLED}


def _status_time(description: str):
    return fields.DateTime(required=True, allow_none=True, metadata={"description": description})


class OrderSchema(OutSchema):
    number = fields.String(required=True, metadata={"example": "LS-261126-7KQ4M"})
    status = fields.Enum(OrderStatus, by_value=True, required=True)
    placed_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True, metadata={
        "description": "When the order last changed in a way an order event announced (its placing at first): "
                       "what `GET /api/v1/orders?updated_since=` sorts and filters on."})
    version = fields.Integer(required=True, metadata={
        "description": "1 when placed, one more with every change an order event announces (two events of one "
                       "change carry the same version), with every payment, refund and credit note, and with a "
                       "recall notice on the order (told by `lot.recalled`); every order event's `data` carries "
                       "the order's version after its change, so of two payloads of one order the higher version "
                       "is the newer state.", "example": 3})
    confirmed_at = _status_time("When the order was confirmed; null until then.")
    shipped_at = _status_time("When the order shipped; null until then.")
    delivered_at = _status_time("When the order was delivered; null until then.")
    cancelled_at = _status_time("When the order was cancelled (or rejected); null unless it was.")
    placed_by = fields.String(required=True, metadata={
        "description": "Who placed the order: the API key's name when a key placed it, else the person's e-mail.",
        "example": "ERP integration (SAP)"})
    currency = fields.String(required=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)
    subtotal = DecimalString(places=2, required=True, metadata={"description": "The sum of the lines' `line_total`."})
    payment_terms = fields.String(required=True, metadata={
        "description": "How the company pays for it, as it stood when the order was placed: `prepaid`, or "
                       "`net_<days>` (`net_30`: due 30 days after the invoice).", "example": "net_30"})
    vat_rule = fields.String(required=True, allow_none=True, metadata={
        "description": "Why the order bears the VAT it bears: `domestic` (ships within the seller's country: its "
                       "rate), `intra_community` (to another EU member state, to a company with a valid VAT ID "
                       "of one: 0 %, the customer accounts for the VAT), `export` (ships outside the EU: 0 %) or "
                       "`eu_other` (any other sale into the EU: the seller's rate). Null for an order placed before "
                       "VAT was charged, until it ships: its VAT is decided then, as for an order placed that day.",
        "enum": [rule.value for rule in VatRule], "example": "domestic"})
    vat_rate = DecimalString(places=2, required=True, metadata={
        "description": "The VAT rate in percent.", "example": "19.00"})
    vat = DecimalString(places=2, required=True, metadata={
        "description": "The VAT: `vat_rate` applied once to `subtotal`, rounded half-up to cents (EN 16931 "
                       "BR-CO-17).", "example": "741.00"})
    total = DecimalString(places=2, required=True, metadata={
        "description": "What the order is worth: `subtotal` + `vat` (no shipping lines). A cancelled order "
                       "keeps its total as it stood when it was cancelled, and is not charged: "
                       "`GET /company`'s `open_exposure` leaves it out."})
    shipping_address = fields.Nested(AddressOutSchema, required=True)
    purchase_order = fields.String(required=True, allow_none=True)
    min_remaining_shelf_life_days = fields.Integer(required=True, allow_none=True)
    single_lot = fields.Boolean(required=True, metadata={
        "description": "Each line is filled from one lot (the earliest-expiring that can fill it whole)."})
    allow_backorder = fields.Boolean(required=True, metadata={
        "description": "The order took what was in stock and backordered the rest of each short line "
                       "(`backordered_quantity`), instead of being refused."})
    shipments = fields.List(fields.Nested(ShipmentSchema), required=True, metadata={
        "description": "What has left the warehouse, one item per shipment, first first. `carrier` and "
                       "`tracking_reference` of the order are those of its latest shipment."})
    carrier = fields.String(required=True, allow_none=True,
                            metadata={"description": "Who carries the shipment, once the order has shipped."})
    tracking_reference = fields.String(required=True, allow_none=True,
                                       metadata={"description": "Set once the order has shipped."})
    notices = fields.List(fields.Nested(NoticeSchema), required=True, metadata={
        "description": "What you must know about the order, e.g. a recall of a lot it drew from."})
    documents = fields.List(fields.Nested(DocumentSchema), required=True, metadata={
        "description": "The document versions (SDS, specification sheet, certificates) of the order's products "
                       "that were current when the order was confirmed, by product: they stay as they were when "
                       "newer versions arrive. Empty until the order is confirmed."})
    invoices = fields.List(fields.String(), required=True, metadata={
        "description": "The numbers of the order's invoices and credit notes, first issued first "
                       "(`GET /api/v1/invoices/<number>`): an invoice is issued when goods ship.",
        "example": ["INV-2026-000123"]})
    amount_paid = DecimalString(places=2, required=True, metadata={
        "description": "The payments we recorded against the order or its invoices, less what we refunded."})
    proforma_url = fields.String(required=True, allow_none=True, metadata={
        "format": "uri", "example": "https://shop.example/api/v1/orders/LS-2026-04711/proforma.pdf",
        "description": "For a prepaid order: its pro-forma invoice (a PDF, with your API key), to pay before it "
                       "ships; null on other terms."})

    @pre_dump
    def _blank_as_null(self, order: Any, **kwargs: Any) -> dict[str, Any]:
        address = dict(order.shipping_address)
        address["line2"] = address["line2"] or None
        return {"number": order.number, "status": order.status, "placed_at": order.placed_at,
                "updated_at": order.updated_at, "version": order.version, **_status_times(order),
                "placed_by": order.placed_by,
                "currency": order.currency, "lines": order.lines, "subtotal": order.subtotal,
                "payment_terms": order.payment_terms, "vat_rule": order.vat_rule, "vat_rate": order.vat_rate,
                "vat": order.vat, "total": order.total,
                "shipping_address": address, "purchase_order": order.purchase_order or None,
                "min_remaining_shelf_life_days": order.min_remaining_shelf_life_days,
                "single_lot": order.single_lot, "allow_backorder": order.allow_backorder,
                "shipments": order.shipments,
                "carrier": order.carrier or None, "tracking_reference": order.tracking_reference or None,
                "notices": [{"kind": n.kind.value, "lot_number": n.lot_number, "message": n.message}
                            for n in order.notices],
                "documents": documents.recorded(order), **_billing(order)}


def _billing(order: Order | PlacedOrder) -> dict[str, Any]:
    """What invoicing adds to an order: its documents' numbers, what was paid, and a prepaid order's pro-forma."""
    proforma = absolute_url("orders.OrderProforma", number=order.number) if has_proforma(order) else None
    return {"invoices": [invoice.number for invoice in order.invoices], "amount_paid": order.amount_paid,
            "proforma_url": proforma}


def has_proforma(order: Order | PlacedOrder) -> bool:
    """A prepaid order has a pro-forma invoice once it is placed (approved, where it needed approval), unless it
    was cancelled: what the buyer pays before it ships."""
    return order.payment_terms == PREPAID and order.status not in (OrderStatus.AWAITING_APPROVAL,
                                                                   OrderStatus.CANCELLED)


def _status_times(order: Order | PlacedOrder) -> dict[str, Any]:
    """confirmed_at, shipped_at... from the order's status history: the latest entry into each status."""
    entered = {change.to_status: change.at for change in order.history}
    return {name: entered.get(status) for name, status in _STATUS_TIMES.items()}


@cache
def _order_schema() -> OrderSchema:
    return OrderSchema()


def order(order: Order | PlacedOrder) -> dict[str, Any]:
    """The order as the API shows it now (its lines, lots, notices): the data of every order event."""
    return _order_schema().dump(order)
