"""/api/v1/products and /api/v1/batches: the catalog with live availability, and lots' CoAs (released, recalled)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from marshmallow import RAISE
from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from shop.api.auth import current_customer
from shop.api.blueprints import ApiBlueprint
from shop.api.pagination import encode_cursor
from shop.api.schemas import (
    ETAG_HEADER,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    BatchSchema,
    CertificateForCompany,
    ConditionalHeaderSchema,
    ProductPageSchema,
    ProductQuerySchema,
    ProductSchema,
    ProductWithStock,
)
from shop.catalog import price_lists
from shop.catalog import products as catalog
from shop.catalog.models import Product, Variant
from shop.documents import service as documents
from shop.platform.conditional import conditional
from shop.platform.errors import NotFound
from shop.platform.extensions import db
from shop.quality import coa
from shop.specifications import availability
from shop.specifications import service as specifications

products_blp = ApiBlueprint("products", __name__, url_prefix="/api/v1/products",
                            description="Grades of L-Leucine with their specification, pack sizes and availability.")
batches_blp = ApiBlueprint("batches", __name__, url_prefix="/api/v1/batches",
                           description="Certificates of Analysis of released lots, and of recalled ones.")


def _products_page(limit: int, after: tuple[int, int] | None) -> list[Product]:
    """One page of active products in catalog order (position, id), everything the answer needs loaded.

    catalog.list_products has no paging; the API pages every list the same way, so it keeps this query.
    """
    stmt = (
        select(Product)
        .where(Product.active.is_(True))
        .options(selectinload(Product.spec_tests), selectinload(Product.variants).selectinload(Variant.price_breaks))
        .order_by(Product.position, Product.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(tuple_(Product.position, Product.id) > tuple_(*after))
    return list(db.session.scalars(stmt))


def _with_stock(products: list[Product]) -> list[ProductWithStock]:
    # One availability query for every variant on the page, not one per variant.
    variant_ids = [v.id for p in products for v in p.variants]
    company_id = current_customer().company_id
    # Only lots that meet the company's specification of a grade count (one more statement where it has one).
    available = availability.available_by_variant(company_id, variant_ids)
    contract = price_lists.contract_tiers(company_id, variant_ids)
    # The current documents of every product on the page: one statement.
    current = documents.current_documents([p.id for p in products]) if products else {}
    currency = current_app.config["SHOP_CURRENCY"]
    return [ProductWithStock(p, available, currency, contract, current.get(p.id, [])) for p in products]


@products_blp.route("")
class Products(MethodView):
    # An unknown parameter is refused: silently ignoring a typo (`?statuss=`) would answer an unfiltered list.
    @conditional
    @products_blp.doc(operationId="listProducts")
    @products_blp.arguments(ConditionalHeaderSchema(), location="headers")
    @products_blp.arguments(ProductQuerySchema(), location="query", unknown=RAISE)
    @products_blp.response(200, ProductPageSchema, headers=ETAG_HEADER)
    @products_blp.alt_response(304, description=NOT_MODIFIED)
    def get(self, _headers, args):
        """List products with their pack sizes and live availability

        Catalog order; cursor-paginated like every list. The answer carries an `ETag`: send it back in
        `If-None-Match` and, while nothing in the page changed, the answer is `304 Not Modified` without a body.
        """
        limit = args["limit"]
        rows = _products_page(limit + 1, args.get("cursor"))
        page, more = rows[:limit], len(rows) > limit
        next_cursor = encode_cursor("products", page[-1].position, page[-1].id) if more else None
        return {"items": _with_stock(page), "next_cursor": next_cursor}


@products_blp.route("/<string:slug>")
class ProductDetail(MethodView):
    @conditional
    @products_blp.doc(operationId="getProduct", parameters=[IF_NONE_MATCH])
    @products_blp.response(200, ProductSchema, headers=ETAG_HEADER)
    @products_blp.alt_response(304, description=NOT_MODIFIED)
    @products_blp.alt_response(404, response="NOT_FOUND")
    def get(self, slug: str):
        """Get one product

        Identity, specification, and each pack size with price breaks and `available_quantity`: units that
        can be ordered right now (released, unexpired lots; on hand minus allocated), for a grade your company
        has a specification of only from lots that meet it; and `documents`, the current version of each of the
        grade's data sheets and certificates, each with the `url` of its PDF. Like the list, the answer carries an
        `ETag` for `If-None-Match` (`304 Not Modified` while nothing changed).
        """
        return _with_stock([catalog.get_product(slug)])[0]


@batches_blp.route("/<string:lot_number>")
class BatchCoa(MethodView):
    @batches_blp.doc(operationId="getBatch")
    @batches_blp.response(200, BatchSchema)
    @batches_blp.alt_response(404, response="NOT_FOUND")
    def get(self, lot_number: str):
        """Get the Certificate of Analysis of a released or recalled lot

        The lot number is matched without regard to case. A recalled lot keeps its certificate (a customer who
        received it needs the document most), with `status` `recalled`, the published `recall_note` and
        `recalled_on`. Lots never released (in quarantine, rejected) answer 404, like unknown ones. Where your
        company has a specification of the lot's grade, `meets_your_specification` says whether the lot meets it,
        and each test it tightens carries `your_min`, `your_max` and its own `meets_your_specification`.
        """
        try:
            cert = coa.get_certificate(lot_number)
        except NotFound:
            # The same for every lot without a CoA: nothing to learn.
            raise NotFound(f"No lot '{lot_number}'.") from None
        verdict = specifications.judge_lot(current_customer().company_id, cert.product_id, cert.results)
        return CertificateForCompany(cert, verdict)
