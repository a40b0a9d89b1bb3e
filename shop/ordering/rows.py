"""The rows a new order writes, as plain values: built once, written by either path of `persistence`, and
shown to the API as a `PlacedOrder` without reading them back."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shop.accounts.models import PREPAID
from shop.invoicing.models import VatRule
from shop.invoicing.vat import VatDecision
from shop.ordering.checks import OrderRequest
from shop.ordering.models import AllocationStatus, OrderStatus
from shop.ordering.planner import Pick, Plan
from shop.ordering.pricing import Price
from shop.ordering.totals import order_totals

# What every new order and order line starts with (besides the order's status: pending, or awaiting approval),
# and the note of its first status change.
NEW_ORDER = {"needs_attention": False, "attention_note": ""}
NEW_LINE = {"cancelled_quantity": 0}
# Columns a new order leaves to their server default (empty until it ships): written by neither path, so that
# the one-statement write stays under psycopg's 4096 characters for preparing it once.
SERVER_DEFAULTS = ("carrier", "tracking_reference", "version", "allow_backorder")
PLACED_NOTE = "Order placed"
NO_VAT = VatDecision(VatRule.DOMESTIC, Decimal("0.00"))  # rows built without a decision (tests of the writes)
LINE_COLUMNS = ("position", "variant_id", "sku", "quantity", "unit_price", "line_total", "price_list_id",
                "lot_number")


@dataclass(frozen=True)
class OrderRows:
    order: dict[str, Any]  # every column of the order but its id
    lines: list[dict[str, Any]]  # LINE_COLUMNS and NEW_LINE of each line, in position order
    picks: tuple[Pick, ...]  # keyed by line position, in line order, first-expired-first-out within a line
    expires_after: date  # the picked lots must still be sellable after this date when the stock is taken
    placed_by: str = ""  # who placed it, as shown: the API key's name, else the person's e-mail

    @property
    def backordered(self) -> bool:
        """Whether the order backorders units (written by the plain path, with its backorder columns)."""
        return self.order.get("allow_backorder", False)

    @property
    def placed_at(self) -> datetime:
        return self.order["placed_at"]

    @property
    def status(self) -> OrderStatus:
        return self.order["status"]

    @property
    def movement_reason(self) -> str:
        """The reason on the ledger rows of the order's allocations."""
        return f"Order {self.order['number']}"

    def change_row(self, order_id: int) -> dict[str, object]:
        """The first status change: placed by the customer (no staff). An API key that placed it is the order's
        own (order.api_key_id), not repeated here: the one-statement write has no room to spare."""
        return {"order_id": order_id, "from_status": None, "to_status": self.status, "at": self.placed_at,
                "staff_id": None, "customer_id": self.order["customer_id"], "note": PLACED_NOTE}

    def allocation_rows(self, line_ids: list[int]) -> list[dict[str, object]]:
        return [{"order_line_id": line_ids[p.key], "stock_id": p.lot.stock_id, "quantity": p.quantity,
                 "status": AllocationStatus.ALLOCATED, "created_at": self.placed_at} for p in self.picks]

    def batch_ids(self) -> list[int]:
        return sorted({p.lot.batch_id for p in self.picks})


def order_rows(request: OrderRequest, pack_ids: Mapping[str, int], prices: list[Price], plan: Plan, *,
               number: str, currency: str, now: datetime, expires_after: date,
               status: OrderStatus = OrderStatus.PENDING, api_key_id: int | None = None,
               placed_by: str = "", pinned: Mapping[int, str] | None = None, payment_terms: str = PREPAID,
               vat: VatDecision = NO_VAT) -> OrderRows:
    """The rows of a new order (of the request's company, starting in `status`, placed by `placed_by`, with the
    API key `api_key_id` when one placed it): its lines priced by `prices` (one per line, each recording its
    contract list), pinned to the lots of `pinned` (by position, as the lot spells its number) and its picks
    from `plan` (keyed by line position), on `payment_terms`, bearing `vat`: its totals from ordering.totals."""
    pinned = pinned or {}
    backorder = {"allow_backorder": True} if request.allow_backorder else {}
    lines = [{"position": position, "variant_id": pack_ids[line.sku], "sku": line.sku, "quantity": line.quantity,
              "unit_price": price.unit_price, "line_total": price.total(line.quantity),
              "price_list_id": price.price_list_id, "lot_number": pinned.get(position), **NEW_LINE,
              **({"backordered_quantity": plan.missing.get(position, 0)} if backorder else {})}
             for position, (line, price) in enumerate(zip(request.lines, prices, strict=True))]
    money = order_totals((line["line_total"] for line in lines), vat.rate)
    address = request.address
    order = {
        **NEW_ORDER, "status": status, "number": number, "customer_id": request.customer_id, "api_key_id": api_key_id,
        "company_id": request.company_id, "currency": currency,
        "subtotal": money.net, "vat": money.vat, "total": money.gross,  # no shipping lines: quoted separately
        "payment_terms": payment_terms, "vat_rule": vat.rule.value, "vat_rate": vat.rate,
        "ship_name": address["name"], "ship_line1": address["line1"], "ship_line2": address.get("line2", ""),
        "ship_city": address["city"], "ship_postal_code": address["postal_code"],
        "ship_country": address["country"], "purchase_order": request.purchase_order,
        "min_remaining_shelf_life_days": request.shelf_life_days, "single_lot": request.single_lot,
        "placed_at": now, "updated_at": now, **backorder,
    }
    return OrderRows(order, lines, plan.picks, expires_after, placed_by)


# --- What the API shows of a new order ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PlacedAllocation:
    lot_number: str
    quantity: int
    expires_on: date
    recalled: bool = False  # a new order's lots are sellable


@dataclass(frozen=True, slots=True)
class PlacedLine:
    sku: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    cancelled_quantity: int
    allocations: tuple[PlacedAllocation, ...]
    pack_size_kg: Decimal = Decimal("0")
    lot_number: str | None = None  # the lot the line is pinned to
    backordered_quantity: int = 0
    shipped_quantity: int = 0  # nothing of a new order has shipped

    @property
    def wanted(self) -> int:
        return self.quantity - self.cancelled_quantity


@dataclass(frozen=True)
class PlacedOrder:
    """A new order as written, for the API's schema to dump: the values of an Order, without database ids."""

    number: str
    status: OrderStatus
    placed_at: datetime
    currency: str
    subtotal: Decimal
    total: Decimal
    shipping_address: dict[str, str]
    purchase_order: str
    min_remaining_shelf_life_days: int | None
    tracking_reference: str
    lines: tuple[PlacedLine, ...]
    placed_by: str = ""
    carrier: str = ""
    notices: tuple[()] = ()
    history: tuple[()] = ()  # no status change but the placing: no confirmed_at, shipped_at...
    documents: tuple[()] = ()  # recorded when the order is confirmed
    version: int = 1
    single_lot: bool = False
    allow_backorder: bool = False
    shipments: tuple[()] = ()
    payment_terms: str = PREPAID
    vat_rule: str | None = None
    vat_rate: Decimal = Decimal("0.00")
    vat: Decimal = Decimal("0.00")
    invoices: tuple[()] = ()  # issued when goods ship
    amount_paid: Decimal = Decimal("0.00")

    @property
    def updated_at(self) -> datetime:
        return self.placed_at


def placed_order(rows: OrderRows, pack_size_kg: Mapping[str, Decimal]) -> PlacedOrder:
    """The new order as its rows will be written, every allocation from its pick (`pack_size_kg`: each SKU's)."""
    o = rows.order
    lines = tuple(
        PlacedLine(line["sku"], line["quantity"], line["unit_price"], line["line_total"], line["cancelled_quantity"],
                   tuple(PlacedAllocation(p.lot.lot_number, p.quantity, p.lot.expires_on)
                         for p in rows.picks if p.key == line["position"]), pack_size_kg[line["sku"]],
                   line["lot_number"], line.get("backordered_quantity", 0))
        for line in rows.lines)
    address = {"name": o["ship_name"], "line1": o["ship_line1"], "line2": o["ship_line2"], "city": o["ship_city"],
               "postal_code": o["ship_postal_code"], "country": o["ship_country"]}
    return PlacedOrder(o["number"], o["status"], o["placed_at"], o["currency"], o["subtotal"],
                       o["total"], address, o["purchase_order"], o["min_remaining_shelf_life_days"],
                       "", lines, rows.placed_by, single_lot=o["single_lot"],
                       allow_backorder=rows.backordered, payment_terms=o["payment_terms"],
                       vat_rule=o["vat_rule"], vat_rate=o["vat_rate"], vat=o["vat"])
