"""Catalog queries: products with variants, price breaks and live availability.

The storefront's product page reads the catalog part of a product (identity, description, specification,
pack sizes, price breaks) through `product_snapshot`, a per-app in-process cache of plain values that lives
`CATALOG_CACHE_SECONDS` (app config, default 30; 0 turns it off). That data only changes through the CLI,
so a page may show a price up to that long after it changed; orders and the cart always price from the
database. Stock is never cached: `product_lots_in_stock` reads it live on every page.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from shop.catalog.models import Product, Variant
from shop.platform.errors import NotFound
from shop.platform.extensions import db


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
