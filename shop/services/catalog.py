"""Catalog queries: products with variants, price breaks and live availability."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from ..errors import NotFound
from ..extensions import db
from ..models import Batch, BatchStatus, Product, Stock, Variant


def sellable_after(min_remaining_days: int = 0, today: date | None = None) -> date:
    """Lots must expire strictly after this date to be sold (to a buyer asking for that shelf life)."""
    return (today or date.today()) + timedelta(days=min_remaining_days)


def sellable_lot_filter(min_remaining_days: int = 0):
    """SQL condition for a lot whose stock may be allocated: released, and not expiring too soon."""
    return (Batch.status == BatchStatus.RELEASED) & (Batch.expires_on > sellable_after(min_remaining_days))


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
    """Units available to sell now (released, unexpired lots; on hand minus allocated), per variant id."""
    stmt = (
        select(Stock.variant_id, func.sum(Stock.on_hand - Stock.allocated))
        .join(Batch, Batch.id == Stock.batch_id)
        .where(sellable_lot_filter())
        .group_by(Stock.variant_id)
    )
    if variant_ids is not None:
        ids = list(variant_ids)
        if not ids:
            return {}
        stmt = stmt.where(Stock.variant_id.in_(ids))
    return {vid: int(n or 0) for vid, n in db.session.execute(stmt)}


def sellable_stock_for_product(product_id: int) -> list[Stock]:
    """Stock rows of a product's released, unexpired lots that have units available, soonest expiry first."""
    stmt = (
        select(Stock)
        .join(Stock.batch)
        .options(contains_eager(Stock.batch))
        .where(Batch.product_id == product_id, sellable_lot_filter(), Stock.on_hand > Stock.allocated)
        .order_by(Batch.expires_on, Batch.id, Stock.variant_id)
    )
    return list(db.session.scalars(stmt))

