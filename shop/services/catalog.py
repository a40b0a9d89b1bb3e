"""Catalog queries: products with variants, price breaks and live availability.

The storefront's product page reads the catalog part of a product (identity, description, specification,
pack sizes, price breaks) through `product_snapshot`, a per-app in-process cache of plain values that lives
`CATALOG_CACHE_SECONDS` (app config, default 30; 0 turns it off). That data only changes through the CLI,
so a page may show a price up to that long after it changed; orders and the cart always price from the
database. Stock is never cached: `product_lots_in_stock` reads it live on every page.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import Date, bindparam, case, func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import Batch, BatchStatus, Product, Stock, Variant
from .sql import sql_literal


def default_shelf_life_days() -> int:
    """The minimum remaining shelf life, in days, of an order that asks for none (DEFAULT_MIN_SHELF_LIFE_DAYS)."""
    return current_app.config["DEFAULT_MIN_SHELF_LIFE_DAYS"]


def sellable_after(min_remaining_days: int = 0, today: date | None = None) -> date:
    """Lots must expire strictly after this date to be sold (to a buyer asking for that shelf life)."""
    return (today or date.today()) + timedelta(days=min_remaining_days)


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


def list_products(active_only: bool = True) -> list[Product]:
    """Products in catalog order, with specification, variants and price breaks loaded."""
    stmt = (
        select(Product)
        .options(
            selectinload(Product.spec_tests),
            selectinload(Product.variants).selectinload(Variant.price_breaks),
        )
        .order_by(Product.position, Product.id)
    )
    if active_only:
        stmt = stmt.where(Product.active.is_(True))
    return list(db.session.scalars(stmt))


def get_product(slug: str) -> Product:
    """One active product by slug, with specification, variants and price breaks loaded."""
    product = db.session.scalar(
        select(Product)
        .where(Product.slug == slug, Product.active.is_(True))
        .options(
            selectinload(Product.spec_tests),
            selectinload(Product.variants).selectinload(Variant.price_breaks),
        )
    )
    if product is None:
        raise NotFound(f"No product '{slug}'.")
    return product


def get_variant_by_sku(sku: str) -> Variant:
    variant = db.session.scalar(
        select(Variant).where(Variant.sku == sku).options(selectinload(Variant.price_breaks),
                                                          selectinload(Variant.product))
    )
    if variant is None:
        raise NotFound(f"No pack size with SKU '{sku}'.")
    return variant


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


def sellable_stock_for_product(product_id: int) -> list[Stock]:
    """Stock rows of a product that an order with the default shelf life may draw from, soonest expiry first."""
    stmt = (
        select(Stock)
        .join(Stock.batch)
        .options(contains_eager(Stock.batch))
        .where(Batch.product_id == product_id, sellable_lot_filter(default_shelf_life_days()),
               Stock.on_hand > Stock.allocated)
        .order_by(Batch.expires_on, Batch.id, Stock.variant_id)
    )
    return list(db.session.scalars(stmt))



@dataclass(frozen=True)
class PriceStep:
    """One row of a pack's price-break table: from `min_quantity` units up to `max_quantity` (None: no end)."""
    min_quantity: int
    max_quantity: int | None
    unit_price: Decimal
    per_kg: Decimal


@dataclass(frozen=True)
class PackSnapshot:
    id: int
    sku: str
    pack_size_kg: Decimal
    min_order_quantity: int
    prices: tuple[PriceStep, ...]


@dataclass(frozen=True)
class SpecLine:
    name: str
    limits_text: str
    method: str


@dataclass(frozen=True)
class ProductSnapshot:
    """The catalog part of an active product with its active pack sizes, as plain values safe to share
    between requests (no ORM instance, so nothing lazy-loads or goes stale inside a session)."""
    id: int
    slug: str
    name: str
    grade: str
    cas_number: str
    formula: str
    molecular_weight: Decimal
    description: str
    packs: tuple[PackSnapshot, ...]
    spec: tuple[SpecLine, ...]


def _price_steps(variant: Variant) -> tuple[PriceStep, ...]:
    starts = [variant.min_order_quantity] + [pb.min_quantity for pb in variant.price_breaks]
    prices = [variant.unit_price] + [pb.unit_price for pb in variant.price_breaks]
    ends = [start - 1 for start in starts[1:]] + [None]
    return tuple(PriceStep(start, end, price, price / variant.pack_size_kg)
                 for start, end, price in zip(starts, ends, prices, strict=True))


def _load_snapshot(slug: str) -> ProductSnapshot | None:
    # The specification (about ten rows) is joined onto the product and the price breaks onto the
    # variants: two statements for a cold cache, so the page stays within five also on SQLite.
    product = db.session.execute(
        select(Product)
        .where(Product.slug == slug, Product.active.is_(True))
        .options(joinedload(Product.spec_tests),
                 selectinload(Product.variants).joinedload(Variant.price_breaks))
    ).unique().scalar_one_or_none()
    if product is None:
        return None
    return ProductSnapshot(
        id=product.id, slug=product.slug, name=product.name, grade=product.grade, cas_number=product.cas_number,
        formula=product.formula, molecular_weight=product.molecular_weight, description=product.description,
        packs=tuple(PackSnapshot(v.id, v.sku, v.pack_size_kg, v.min_order_quantity, _price_steps(v))
                    for v in product.variants if v.active),
        spec=tuple(SpecLine(t.name, t.limits_text, t.method) for t in product.spec_tests),
    )


def product_snapshot(slug: str) -> ProductSnapshot | None:
    """An active product's catalog data from this app's cache (filled from the database when missing or
    older than CATALOG_CACHE_SECONDS); None for an unknown or withdrawn product (never cached, so unknown
    slugs cannot grow the cache)."""
    ttl = current_app.config.get("CATALOG_CACHE_SECONDS", 30)
    # Kept on the app object, so every app (every test) starts empty and tests stay independent.
    cache: dict[str, tuple[float, ProductSnapshot]] = current_app.extensions.setdefault("shop_catalog_cache", {})
    now = time.monotonic()
    hit = cache.get(slug)
    if hit is not None and hit[0] > now:
        return hit[1]
    snapshot = _load_snapshot(slug)
    if snapshot is not None and ttl > 0:
        cache[slug] = (now + ttl, snapshot)
    else:
        cache.pop(slug, None)
    return snapshot


def clear_product_snapshots() -> None:
    """Forget this app's cached catalog data (the next page loads it again)."""
    current_app.extensions.pop("shop_catalog_cache", None)


# Built once: the product page runs it on every request, and building a statement costs more than running it.
_LOTS_IN_STOCK = (
    select(Batch.id, Batch.lot_number, Batch.manufactured_on, Batch.expires_on, Stock.variant_id,
           (Stock.on_hand - Stock.allocated).label("available"))
    .join_from(Stock, Batch, Batch.id == Stock.batch_id)
    .where(Batch.product_id == bindparam("product_id"),
           sellable_lot_condition(bindparam("expires_after", type_=Date)),
           Stock.on_hand > Stock.allocated)
    .order_by(Batch.expires_on, Batch.id, Stock.variant_id)
)


def product_lots_in_stock(product_id: int):
    """Live rows (batch id, lot_number, manufactured_on, expires_on, variant_id, available) of a product's
    sellable stock, soonest expiry first: the same rows as sellable_stock_for_product, as plain tuples."""
    params = {"product_id": product_id, "expires_after": sellable_after(default_shelf_life_days())}
    registry = db.session.registry  # looked up without creating a session that this page would not use
    if registry.has() and registry().in_transaction():
        # Already reading (a signed-in user, a form being answered): stay in that transaction, and on SQLite
        # never wait for a second connection behind this request's own write lock.
        return db.session.connection().execute(_LOTS_IN_STOCK, params).all()
    # One SELECT is consistent on its own: in autocommit it needs no BEGIN and ROLLBACK round trips, which
    # cost the database more than the query itself (0.22 -> 0.06 ms of PostgreSQL CPU per page).
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn.execute(_LOTS_IN_STOCK, params).all()
