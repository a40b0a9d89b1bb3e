"""Trace a lot to every order and customer that drew on it (and every sample shipped from it), and back from an
order to its lots."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from shop.accounts.models import Company, Customer
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, DateKind, Stock
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine, OrderStatus, Shipment
from shop.platform.errors import NotFound
from shop.platform.extensions import db
from shop.sales.samples import LotSample, shipped_from_lot

# --- Traceability ---------------------------------------------------------------------------------


@dataclass
class TraceRow:
    """One allocation: so many units of one lot in one pack size on one order line. `shipped_at` and
    `tracking_reference` are those of the shipment its units left with (an order may ship in several), and only
    on such an allocation: units given back to stock (a recall, a cancellation) never shipped."""

    allocation_id: int
    lot_number: str
    expires_on: date
    sku: str
    quantity: int
    allocation_status: AllocationStatus
    allocated_at: datetime
    order_number: str
    order_status: OrderStatus
    placed_at: datetime
    shipped_at: datetime | None
    tracking_reference: str
    company: str
    email: str
    needs_attention: bool
    date_kind: DateKind  # what expires_on is: an expiry date or a retest date
    backordered: int = 0  # units the line waits for from a release (a recall no other lot could re-cover)

    def __post_init__(self) -> None:
        if self.allocation_status != AllocationStatus.SHIPPED:
            self.shipped_at, self.tracking_reference = None, ""


@dataclass
class LotTrace:
    batch: Batch
    rows: list[TraceRow]
    samples: list[LotSample] = field(default_factory=list)  # shipped from the lot: their receivers count too

    @property
    def received(self) -> list[TraceRow]:
        """Allocations that left the warehouse: the customers to contact in a recall."""
        return [r for r in self.rows if r.allocation_status == AllocationStatus.SHIPPED]

    @property
    def customers(self) -> list[tuple[str, str]]:
        return customers_of(self.rows, self.samples)


def customers_of(rows: list[TraceRow], samples: Sequence[LotSample] = ()) -> list[tuple[str, str]]:
    """Each customer once, as (company, email), by company name regardless of case: who drew on the lot, and who
    received a sample of it."""
    seen: dict[str, str] = {}
    for r in [*rows, *samples]:
        seen.setdefault(r.email, r.company)
    return sorted(((company, email) for email, company in seen.items()), key=lambda c: c[0].lower())


def _trace_select():
    return (
        select(Allocation.id, Batch.lot_number, Batch.expires_on, OrderLine.sku, Allocation.quantity,
               Allocation.status, Allocation.created_at, Order.number, Order.status, Order.placed_at,
               Shipment.shipped_at, Shipment.tracking_reference, Company.name, Customer.email, Order.needs_attention,
               Batch.date_kind, OrderLine.backordered_quantity)
        .join(OrderLine, OrderLine.id == Allocation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(Company, Company.id == Order.company_id)
        .join(Stock, Stock.id == Allocation.stock_id)
        .join(Batch, Batch.id == Stock.batch_id)
        .outerjoin(Shipment, Shipment.id == Allocation.shipment_id)
    )


def lot_trace(lot_number: str) -> LotTrace:
    """A lot (its number in any case), every allocation ever drawn from it, oldest order first, and every sample
    shipped from it; constant statements."""
    batch = db.session.scalar(
        select(Batch).where(inventory.lot_number_is(lot_number))
        .options(selectinload(Batch.product), selectinload(Batch.stocks).selectinload(Stock.variant))
    )
    if batch is None:
        raise NotFound(f"No lot '{lot_number}'.")
    rows = [TraceRow(*r) for r in db.session.execute(
        _trace_select().where(Stock.batch_id == batch.id).order_by(Order.placed_at, Order.id, Allocation.id))]
    return LotTrace(batch, rows, shipped_from_lot(batch.id))


def order_trace_rows(order_id: int) -> list[TraceRow]:
    """Every allocation of one order with its lot, in line order."""
    return [TraceRow(*r) for r in db.session.execute(
        _trace_select().where(Order.id == order_id).order_by(OrderLine.position, Allocation.id))]


# `expires_on` is the lot's expiry date or its retest date, as `date_kind` (`expiry` | `retest`) says. Columns
# came last as they were added, so that readers of the earlier columns by position keep working: `record` says
# what a row is (`allocation`, or `sample`: then `order_number` is the sample's number, `placed_at` when it was
# asked for, `quantity` its units from stock or empty for the lot's retained sample, and `quantity_g` its grams).
CSV_COLUMNS = ["lot_number", "expires_on", "order_number", "order_status", "customer", "customer_email", "sku",
               "quantity", "allocation_status", "allocated_at", "placed_at", "shipped_at", "tracking_reference",
               "date_kind", "record", "quantity_g"]


def trace_csv(rows: list[TraceRow]) -> str:
    """CSV with one row per allocation."""
    return _csv(_allocation_cells(r) for r in rows)


def lot_trace_csv(trace: LotTrace) -> str:
    """A lot's CSV: one row per allocation, then one per sample shipped from it."""
    return _csv([*map(_allocation_cells, trace.rows), *(_sample_cells(trace.batch, s) for s in trace.samples)])


def _csv(rows: Iterable[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


def _allocation_cells(r: TraceRow) -> list[object]:
    return [_cell(r.lot_number), r.expires_on.isoformat(), _cell(r.order_number), r.order_status.value,
            _cell(r.company), _cell(r.email), _cell(r.sku), r.quantity, r.allocation_status.value,
            _iso(r.allocated_at), _iso(r.placed_at), _iso(r.shipped_at), _cell(r.tracking_reference),
            r.date_kind.value, "allocation", ""]


def _sample_cells(batch: Batch, s: LotSample) -> list[object]:
    return [_cell(batch.lot_number), batch.expires_on.isoformat(), s.number, "shipped", _cell(s.company),
            _cell(s.email), _cell(s.sku), s.units or "", "", "", _iso(s.requested_at), _iso(s.shipped_at),
            _cell(s.tracking_reference), batch.date_kind.value, "sample", s.quantity_g]


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


def _cell(text: str | None) -> str:
    # Company names and tracking references are typed by outsiders; a leading = + - @ would run as a
    # formula when the recall team opens the file in a spreadsheet (CSV injection).
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
