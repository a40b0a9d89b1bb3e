"""Reading orders for their pages and the API: one order, and keyset-paginated lists."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import aliased, joinedload, selectinload

from shop.catalog.models import Variant
from shop.documents.models import ProductDocument
from shop.inventory.availability import sellable_after, sellable_lot_condition
from shop.inventory.models import Batch, DateKind, Stock
from shop.ordering.models import Allocation, AllocationStatus, Order, OrderLine, OrderStatus, Shipment
from shop.platform.errors import NotFound
from shop.platform.extensions import db
from shop.specifications.service import conformance


def order_options(*, with_products: bool = False) -> tuple:
    """Loader options for orders as pages, the API, e-mails and events show them: lines (with their pack sizes),
    allocations and their lots, notices, status history, the recorded documents, who placed it; `with_products` adds
    each line's product (for what names them), so that nothing is loaded one line or one order at a time."""
    options = (
        selectinload(Order.lines)
        .selectinload(OrderLine.allocations)
        .selectinload(Allocation.stock)
        .selectinload(Stock.batch),
        selectinload(Order.lines).joinedload(OrderLine.variant),  # pack_size_kg, joined: no statement of its own
        selectinload(Order.notices),
        selectinload(Order.history),  # confirmed_at, shipped_at...: one statement for any number of orders
        selectinload(Order.shipments).selectinload(Shipment.allocations),  # their lots: lines' allocations, loaded
        # The document versions recorded at confirmation, with their products (for their file names): one statement.
        selectinload(Order.documents).joinedload(ProductDocument.product),
        joinedload(Order.customer),  # who placed it (placed_by), joined: no statement of its own
        joinedload(Order.api_key),
        selectinload(Order.invoices),  # their numbers, and what was paid: a statement each for any number of orders
        selectinload(Order.payments),
        selectinload(Order.refunds),
    )
    if with_products:
        options += (selectinload(Order.lines).joinedload(OrderLine.variant).joinedload(Variant.product),)
    return options


def order_number_is(number: str):
    """SQL condition matching an order number as a person typed it: without regard to case, like a lot number.

    The shop writes every number in capitals (new_order_number), so the typed one is put in capitals and the
    column's unique index serves the lookup as it is, with no function on the column.
    """
    return Order.number == canonical_number(number)


def canonical_number(number: str) -> str:
    """The order's own number for one typed in any case ('ls-261203-fc02m' -> 'LS-261203-FC02M'): the shop writes
    every number in capitals (new_order_number), so no statement is needed to spell it as the order does."""
    return (number or "").strip().upper()


def get_order(number: str, company_id: int | None = None, *, lock: bool = False,
              with_products: bool = False) -> Order:
    """One order (its number in any case) with its lines and allocated lots (and, `with_products`, each line's pack
    size and product); limited to one company's order book when given."""
    stmt = select(Order).where(order_number_is(number)).options(*order_options(with_products=with_products))
    if company_id is not None:
        stmt = stmt.where(Order.company_id == company_id)
    if lock:
        stmt = stmt.with_for_update(of=Order).execution_options(populate_existing=True)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def list_orders(company_id: int | None = None, status: OrderStatus | None = None, limit: int = 20,
                after: tuple[datetime, int] | None = None) -> list[Order]:
    """Orders newest first, keyset-paginated on (placed_at, id); pass the last row's pair as `after`."""
    stmt = select(Order).options(*order_options()).order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    if company_id is not None:
        stmt = stmt.where(Order.company_id == company_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if after is not None:
        stmt = stmt.where(tuple_(Order.placed_at, Order.id) < tuple_(*after))
    return list(db.session.scalars(stmt))


def list_changed_orders(company_id: int, since: datetime, until: datetime, limit: int = 20,
                        after: tuple[datetime, int] | None = None, status: OrderStatus | None = None) -> list[Order]:
    """A company's orders changed at or after `since` and no later than `until`, oldest change first, keyset-paginated
    on (updated_at, id); pass the last row's pair as `after`. An order that changes again after it was read has a
    later updated_at, so a reader following the pages meets it once more, with its new state."""
    stmt = (select(Order).options(*order_options())
            .where(Order.company_id == company_id, Order.updated_at >= since, Order.updated_at <= until)
            .order_by(Order.updated_at, Order.id).limit(limit))
    if status is not None:
        stmt = stmt.where(Order.status == status)
    if after is not None:
        stmt = stmt.where(tuple_(Order.updated_at, Order.id) > tuple_(*after))
    return list(db.session.scalars(stmt))


def unknown_skus(skus: Iterable[object]) -> set[str]:
    """The SKUs among `skus` (non-strings ignored) that no active pack size has."""
    wanted = {sku for sku in skus if isinstance(sku, str)}
    if not wanted:
        return set()
    return wanted - set(db.session.scalars(select(Variant.sku).where(Variant.sku.in_(wanted), Variant.active)))


@dataclass(frozen=True, slots=True)
class EarlierLot:
    """A lot that a company's earlier order drew from and that still has free units of the same pack size: what
    checkout offers as "same lot as order …"."""

    variant_id: int
    lot_number: str
    order_number: str  # the latest of the company's orders that drew from it
    expires_on: date
    date_kind: DateKind
    free: int

    @property
    def label(self) -> str:
        dated = "expires" if self.date_kind is DateKind.EXPIRY else "retest date"
        return (f"{self.lot_number} (order {self.order_number}, {dated} {self.expires_on.isoformat()}, "
                f"{self.free:,} unit{'' if self.free == 1 else 's'} free)")


def earlier_lots(company_id: int, variant_ids: Iterable[int], min_remaining_days: int) -> dict[int, list[EarlierLot]]:
    """Per pack size, soonest expiry first: the lots the company's orders drew from (in any pack size of the
    grade; allocations still theirs, reserved or shipped) that have free units of that pack size, that an order
    asking for `min_remaining_days` of shelf life may be filled from, and that meet the company's specification.
    One statement for every pack size, and one more (the specification's) only when there are such lots.

    An order number starts with its date (LS-YYMMDD-…), so the greatest is the latest day's.
    """
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    received = aliased(Stock)  # the stock row an earlier order drew from: the same lot, maybe another pack size
    rows = db.session.execute(
        select(Stock.variant_id, Batch.id, Batch.lot_number, Batch.expires_on, Batch.date_kind,
               (Stock.on_hand - Stock.allocated).label("free"), func.max(Order.number).label("order_number"))
        .select_from(Stock)
        .join(Batch, Batch.id == Stock.batch_id)
        .join(received, received.batch_id == Batch.id)
        .join(Allocation, Allocation.stock_id == received.id)
        .join(OrderLine, OrderLine.id == Allocation.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.company_id == company_id, Stock.variant_id.in_(ids), Stock.on_hand > Stock.allocated,
               Allocation.status.in_([AllocationStatus.ALLOCATED, AllocationStatus.SHIPPED]),
               sellable_lot_condition(sellable_after(min_remaining_days)))
        .group_by(Stock.id, Stock.variant_id, Batch.id, Batch.lot_number, Batch.expires_on, Batch.date_kind,
                  Stock.on_hand, Stock.allocated)
        .order_by(Stock.variant_id, Batch.expires_on, Batch.id)).all()
    meets = conformance(company_id, {row.id for row in rows}).meets
    lots: dict[int, list[EarlierLot]] = {}
    for row in rows:
        if meets(row.id):
            lots.setdefault(row.variant_id, []).append(EarlierLot(
                row.variant_id, row.lot_number, row.order_number, row.expires_on, row.date_kind, int(row.free)))
    return lots
