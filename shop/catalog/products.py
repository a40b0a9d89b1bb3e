"""Catalog queries: products with variants, price breaks and live availability.

The storefront's product page reads the catalog part of a product (identity, description, specification,
pack sizes, price breaks, documents) through `product_snapshot`, a per-app in-process cache of plain values kept
with the product's `catalog_version`. Database triggers (migration 0034) count that version up with every change
to those rows, whoever makes it; the page reads the version in the same statement as the live stock
(inventory.availability.product_lots_in_stock) and loads the snapshot again when it differs, so a cached page
never shows a price or pack size that has changed, in any process. Stock is never cached.
"""
from __future__ import annotations

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
    version: int  # the product's catalog_version when this was read


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
        # The rows as they are now, also where this session holds the product already (its catalog_version is
        # counted up by triggers, behind the session's back).
        .execution_options(populate_existing=True)
    ).unique().scalar_one_or_none()
    if product is None:
        return None
    return ProductSnapshot(
        id=product.id, slug=product.slug, name=product.name, grade=product.grade, cas_number=product.cas_number,
        formula=product.formula, molecular_weight=product.molecular_weight, description=product.description,
        packs=tuple(PackSnapshot(v.id, v.sku, v.pack_size_kg, v.min_order_quantity, _price_steps(v))
                    for v in product.variants if v.active),
        spec=tuple(SpecLine(t.name, t.limits_text, t.method) for t in product.spec_tests),
        version=product.catalog_version,
    )


def product_snapshot(slug: str) -> ProductSnapshot | None:
    """An active product's catalog data: this app's cached copy, else `load_product_snapshot`'s. The caller checks
    the copy's `version` against the product's (the storefront reads it beside the live stock)."""
    # Kept on the app object, so every app (every test) starts empty and tests stay independent.
    cached = current_app.extensions.get("shop_catalog_cache", {}).get(slug)
    return cached if cached is not None else load_product_snapshot(slug)


def load_product_snapshot(slug: str) -> ProductSnapshot | None:
    """An active product's catalog data read from the database now, and kept in this app's cache in place of any
    older copy; None for an unknown or withdrawn product (never cached, so unknown slugs cannot grow the cache)."""
    cache: dict[str, ProductSnapshot] = current_app.extensions.setdefault("shop_catalog_cache", {})
    snapshot = _load_snapshot(slug)
    if snapshot is None:
        cache.pop(slug, None)
    else:
        cache[slug] = snapshot
    return snapshot


def clear_product_snapshots() -> None:
    """Forget this app's cached catalog data (the next page loads it again)."""
    current_app.extensions.pop("shop_catalog_cache", None)
