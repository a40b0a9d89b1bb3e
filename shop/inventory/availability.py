"""What can be sold: the one rule for a sellable lot (released, shelf life left, not on request), and the
available units per pack size that pages, the API and orders count."""
from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Date, and_, bindparam, case, func, join, select

from shop.catalog.models import Product
from shop.inventory.models import Batch, BatchStatus, Stock
from shop.platform.extensions import db
from shop.platform.sql import sql_literal


def default_shelf_life_days() -> int:
    """The minimum remaining shelf life, in days, of an order that asks for none (DEFAULT_MIN_SHELF_LIFE_DAYS)."""
    return current_app.config["DEFAULT_MIN_SHELF_LIFE_DAYS"]


def sellable_after(min_remaining_days: int = 0, today: date | None = None) -> date:
    """Lots must expire strictly after this date to be sold (to a buyer asking for that shelf life)."""
    return (today or date.today()) + timedelta(days=min_remaining_days)


class ShelfLife(enum.StrEnum):
    """Where a lot stands for sale on a day, by its status and date (lots sold only on request aside)."""

    NOT_RELEASED = "not_released"  # quarantined, rejected or recalled: never sold
    EXPIRED = "expired"  # released, but its date has come: its units cannot go out
    SHORT_DATED = "short_dated"  # released, with no more than the minimum shelf life left: orders skip it
    SELLABLE = "sellable"  # released, with more than the minimum shelf life left


def shelf_life(status: BatchStatus, expires_on: date, min_remaining_days: int, today: date) -> ShelfLife:
    """The sellable-lot rule of `sellable_lot_condition` for one lot already read, with the short-dated and
    expired lots told apart (the dashboard shows which)."""
    if status != BatchStatus.RELEASED:
        return ShelfLife.NOT_RELEASED
    if expires_on <= today:
        return ShelfLife.EXPIRED
    if expires_on <= sellable_after(min_remaining_days, today):
        return ShelfLife.SHORT_DATED
    return ShelfLife.SELLABLE


def sellable_lot_filter(min_remaining_days: int = 0):
    """SQL condition for a lot whose stock may be allocated: released, and not expiring too soon."""
    return sellable_lot_condition(sellable_after(min_remaining_days))


# Written into the SQL rather than bound: a constant, so that a statement built once stays short (psycopg
# prepares a statement of at most 4096 characters and 50 parameters once, and converts longer ones anew).
_RELEASED = sql_literal(BatchStatus.RELEASED, Batch.status.type)


def sellable_lot_condition(expires_after):
    """The one condition for a lot that orders are filled from first-expired-first-out: released, expiring after
    `expires_after` (a date, or a bind parameter in a statement that is built once and reused), and not marked
    "sell only on request" (such a lot goes to an order only when fulfilment allocates it by hand)."""
    return (Batch.status == _RELEASED) & (Batch.expires_on > expires_after) & Batch.on_request.is_(False)


def available_by_variant(variant_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Units an order asking for no particular shelf life would get now, per variant id: on hand minus allocated
    in lots it may be filled from (released, with the default shelf life left, not "on request")."""
    stmt = (
        select(Stock.variant_id, func.sum(Stock.on_hand - Stock.allocated))
        .join(Batch, Batch.id == Stock.batch_id)
        .where(sellable_lot_filter(default_shelf_life_days()))
        .group_by(Stock.variant_id)
    )
    if variant_ids is not None:
        ids = list(variant_ids)
        if not ids:
            return {}
        stmt = stmt.where(Stock.variant_id.in_(ids))
    return {vid: int(n or 0) for vid, n in db.session.execute(stmt)}


def availability_by_variant(variant_ids: Iterable[int], min_remaining_days: int = 0) -> dict[int, tuple[int, int]]:
    """Per variant id: (units available now, of those the units in lots with more than `min_remaining_days` of
    shelf life left); one statement. Variants with nothing available are absent."""
    ids = list(variant_ids)
    if not ids:
        return {}
    free = Stock.on_hand - Stock.allocated
    fresh = case((Batch.expires_on > sellable_after(min_remaining_days), free), else_=0)
    stmt = (
        select(Stock.variant_id, func.sum(free), func.sum(fresh))
        .join(Batch, Batch.id == Stock.batch_id)
        .where(sellable_lot_filter(), Stock.variant_id.in_(ids))
        .group_by(Stock.variant_id)
    )
    return {vid: (int(now or 0), int(later or 0)) for vid, now, later in db.session.execute(stmt)}


# Rooted at the product, so that the answer always has a row (lot columns NULL when nothing is in stock) and
# carries the product's catalog version: a page that caches the catalog checks its copy with the same statement.
_SELLABLE_STOCK = join(Batch, Stock, Stock.batch_id == Batch.id)
_IN_STOCK_ON = and_(Batch.product_id == Product.id, sellable_lot_condition(bindparam("expires_after", type_=Date)),
                    Stock.on_hand > Stock.allocated)
LOT_COLUMNS = (Batch.id, Batch.lot_number, Batch.manufactured_on, Batch.expires_on, Stock.variant_id,
               (Stock.on_hand - Stock.allocated).label("available"), Batch.date_kind)


def product_stock_statement(*columns, joins=()):
    """The product page's statement: the catalog version, the seven lot columns, then `columns` (from the
    outer `joins`, each a (target, onclause) pair); bind parameters product_id and expires_after."""
    stmt = select(Product.catalog_version, *LOT_COLUMNS, *columns).select_from(Product)
    for target, onclause in joins:
        stmt = stmt.outerjoin(target, onclause)
    return (stmt.outerjoin(_SELLABLE_STOCK, _IN_STOCK_ON).where(Product.id == bindparam("product_id"))
            .order_by(Batch.expires_on, Batch.id, Stock.variant_id))


# Built once: the product page runs it on every request, and building a statement costs more than running it.
_LOTS_IN_STOCK = product_stock_statement()


@dataclass(frozen=True, slots=True)
class ProductStock:
    """A product's live sellable stock rows (batch id, lot_number, manufactured_on, expires_on, variant_id,
    available, date_kind), soonest expiry first, and the product's catalog version read with them (None when
    there is no such product)."""

    catalog_version: int | None
    rows: Sequence[tuple]
    withheld: int = 0  # lots left out because they do not meet the viewer's specification (specifications)

    @classmethod
    def of(cls, result: Sequence[Any]) -> ProductStock:
        """From the rows of `product_stock_statement`."""
        return cls(result[0][0] if result else None,
                   [tuple(row[1:1 + len(LOT_COLUMNS)]) for row in result if row[1] is not None])


def product_lots_in_stock(product_id: int) -> ProductStock:
    """The product page's live stock and catalog version, in one statement."""
    params = {"product_id": product_id, "expires_after": sellable_after(default_shelf_life_days())}
    registry = db.session.registry  # looked up without creating a session that this page would not use
    if registry.has() and registry().in_transaction():
        # Already reading (a signed-in user, a form being answered): stay in that transaction, and on SQLite
        # never wait for a second connection behind this request's own write lock.
        return ProductStock.of(db.session.connection().execute(_LOTS_IN_STOCK, params).all())
    # One SELECT is consistent on its own: in autocommit it needs no BEGIN and ROLLBACK round trips, which
    # cost the database more than the query itself (0.22 -> 0.06 ms of PostgreSQL CPU per page).
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        return ProductStock.of(conn.execute(_LOTS_IN_STOCK, params).all())
