"""The document versions an order records: the current SDS, specification sheet and certificates of each of its
products at the moment it was confirmed, kept as they were when newer versions arrive (what a buyer's quality
department asks for when it wants to know which certificate was valid when a delivery left)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import insert, literal, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from shop.documents import service
from shop.documents.models import OrderDocument, ProductDocument
from shop.documents.rules import KIND_ORDER
from shop.documents.service import DocumentView
from shop.ordering.models import Order
from shop.platform.extensions import db

if TYPE_CHECKING:
    from shop.ordering.rows import PlacedOrder

def record(order: Order) -> None:
    """Record on the order (loaded with its lines' pack sizes) the current version of each kind of document of
    its products, in one INSERT … SELECT; then read them back with their products in one more statement, so that
    the order.confirmed event's data lists them without a query per document."""
    product_ids = sorted({line.variant.product_id for line in order.lines})
    if not product_ids:
        return
    current = service.current_ids(product_ids).subquery()
    db.session.execute(insert(OrderDocument).from_select(
        ["order_id", "document_id"], select(literal(order.id), current.c.id)))
    stored = db.session.scalars(
        select(ProductDocument).join(OrderDocument, OrderDocument.document_id == ProductDocument.id)
        .where(OrderDocument.order_id == order.id).options(joinedload(ProductDocument.product))
        .order_by(ProductDocument.id)).all()
    set_committed_value(order, "documents", list(stored))


def recorded(order: Order | PlacedOrder) -> list[DocumentView]:
    """The versions an order recorded (none before it was confirmed; a new order as placed has none), by product
    and then in the kinds' order; from its loaded `documents` (queries.order_options), no statement of its own."""
    views = [service.view(document) for document in order.documents]
    return sorted(views, key=lambda v: (v.product_name, v.product_id, KIND_ORDER[v.kind], v.id))
