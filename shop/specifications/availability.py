"""What a company can order when it has a specification: only the units in lots that meet it count. A company
without one (or a grade it does not limit) sees exactly what everyone sees, from one statement as before; a
limited grade costs one more statement (the lots' results for its limits), however many lots there are."""
from __future__ import annotations

import dataclasses
from collections.abc import Collection

from sqlalchemy import and_, bindparam, case, func, select

from shop.catalog.models import Product
from shop.inventory import availability
from shop.inventory.models import Batch, Stock
from shop.platform.extensions import db
from shop.specifications.models import CustomerSpecification
from shop.specifications.service import conformance

_FREE = Stock.on_hand - Stock.allocated
# The company's specification of the lot's grade, if any (at most one: unique per company and product).
_SPEC_JOIN = and_(CustomerSpecification.product_id == Batch.product_id,
                  CustomerSpecification.company_id == bindparam("company_id"))
# A lot of a limited grade is counted on its own row (to judge it); every other lot is summed per pack size.
_LOT_OF_LIMITED = case((CustomerSpecification.id.is_not(None), Batch.id))


def available_by_variant(company_id: int | None, variant_ids: Collection[int]) -> dict[int, int]:
    """Units the company could order now per variant id (availability.available_by_variant's rule), counting in
    the grades it limits only the lots that meet its specification. Without a company: availability's own."""
    ids = sorted(set(variant_ids))
    if company_id is None or not ids:
        return availability.available_by_variant(ids)
    stmt = (
        select(Stock.variant_id, _LOT_OF_LIMITED.label("lot"), func.sum(_FREE))
        .join(Batch, Batch.id == Stock.batch_id)
        .outerjoin(CustomerSpecification, _SPEC_JOIN)
        .where(availability.sellable_lot_filter(availability.default_shelf_life_days()), Stock.variant_id.in_(ids))
        .group_by(Stock.variant_id, _LOT_OF_LIMITED)
    )
    rows = db.session.execute(stmt, {"company_id": company_id}).all()
    judged = conformance(company_id, {lot for _, lot, _ in rows if lot is not None})
    available: dict[int, int] = {}
    for variant_id, lot, units in rows:
        if lot is None or judged.meets(lot):
            available[variant_id] = available.get(variant_id, 0) + int(units or 0)
    return available


def availability_by_variant(company_id: int | None, variant_ids: Collection[int],
                            min_remaining_days: int = 0) -> dict[int, tuple[int, int]]:
    """availability.availability_by_variant for the company: (units now, of those in lots with more than
    `min_remaining_days` left) per variant id, in the grades it limits only from lots that meet its specification."""
    ids = sorted(set(variant_ids))
    if company_id is None or not ids:
        return availability.availability_by_variant(ids, min_remaining_days)
    fresh = case((Batch.expires_on > availability.sellable_after(min_remaining_days), _FREE), else_=0)
    stmt = (
        select(Stock.variant_id, _LOT_OF_LIMITED.label("lot"), func.sum(_FREE), func.sum(fresh))
        .join(Batch, Batch.id == Stock.batch_id)
        .outerjoin(CustomerSpecification, _SPEC_JOIN)
        .where(availability.sellable_lot_filter(), Stock.variant_id.in_(ids))
        .group_by(Stock.variant_id, _LOT_OF_LIMITED)
    )
    rows = db.session.execute(stmt, {"company_id": company_id}).all()
    judged = conformance(company_id, {row.lot for row in rows if row.lot is not None})
    found: dict[int, tuple[int, int]] = {}
    for variant_id, lot, now, later in rows:
        if lot is None or judged.meets(lot):
            was = found.get(variant_id, (0, 0))
            found[variant_id] = (was[0] + int(now or 0), was[1] + int(later or 0))
    return found


# Built once, like availability's: the product page runs it on every request of a signed-in member.
_LOTS_IN_STOCK = availability.product_stock_statement(
    CustomerSpecification.id.label("specification_id"),
    joins=[(CustomerSpecification, and_(CustomerSpecification.product_id == Product.id,
                                        CustomerSpecification.company_id == bindparam("company_id")))])


def product_lots_in_stock(company_id: int | None, product_id: int) -> availability.ProductStock:
    """The product page's stock for the company: availability.product_lots_in_stock's, keeping only lots that meet
    the company's specification of the grade (`withheld` counts the others). One statement, and one more when the
    company limits this grade."""
    if company_id is None:
        return availability.product_lots_in_stock(product_id)
    params = {"product_id": product_id, "company_id": company_id,
              "expires_after": availability.sellable_after(availability.default_shelf_life_days())}
    result = db.session.execute(_LOTS_IN_STOCK, params).all()
    stock = availability.ProductStock.of(result)
    if not result or result[0].specification_id is None:
        return stock
    lots = {row[0] for row in stock.rows}
    judged = conformance(company_id, lots)
    kept = [row for row in stock.rows if judged.meets(row[0])]
    return dataclasses.replace(stock, rows=kept, withheld=len(lots - {row[0] for row in kept}))
