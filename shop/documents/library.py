"""The staff's document library: a quality staff member publishes a new version (stored, and written to the audit
log), and every version of every product's documents is listed with the current one of each kind marked."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby

from sqlalchemy import select

from shop.accounts.models import StaffUser
from shop.catalog.models import Product
from shop.documents import service
from shop.documents.models import ProductDocument
from shop.documents.rules import KIND_ORDER
from shop.documents.service import DocumentView
from shop.platform.audit import audit
from shop.platform.extensions import db
from shop.platform.uploads import Upload


def publish(staff: StaffUser, *, product_id: int, kind: str, title: str, version: str, issued_on: date,
            valid_until: date | None, upload: Upload, today: date | None = None) -> DocumentView:
    """Store a new version of a product's document uploaded by `staff` (named on it as its uploader) and record it
    in the audit log; flushed, not committed. InvalidInput by field as service.add_document refuses it."""
    document = service.add_document(product_id=product_id, kind=kind, title=title, version=version,
                                    issued_on=issued_on, valid_until=valid_until, upload=upload,
                                    uploaded_by=staff.name or staff.email, today=today)
    valid = f", valid until {document.valid_until.isoformat()}" if document.valid_until else ""
    audit(staff, "document.added", f"product {document.product_slug}",
          f"{document.kind_label} version {document.version} ({document.title}), issued "
          f"{document.issued_on.isoformat()}{valid}")
    return document


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One stored version in the library, and whether it is the current one of its kind."""

    document: DocumentView
    current: bool


@dataclass(frozen=True, slots=True)
class ProductLibrary:
    """Every version of one product's documents: by kind, newest first within each."""

    product_slug: str
    product_name: str
    entries: tuple[LibraryEntry, ...]


def library() -> list[ProductLibrary]:
    """Every version of every product's documents, by product name, in one statement; products without any
    are left out."""
    current = ProductDocument.id.in_(service.current_ids()).label("current")
    rows = db.session.execute(
        select(ProductDocument, Product, current).join(Product, Product.id == ProductDocument.product_id)
        .order_by(Product.name, Product.id, ProductDocument.kind, ProductDocument.issued_on.desc(),
                  ProductDocument.id.desc())).all()
    return [ProductLibrary(product.slug, product.name,
                           tuple(sorted(entries, key=lambda e: KIND_ORDER[e.document.kind])))
            for product, entries in _by_product(rows)]


def _by_product(rows) -> Iterator[tuple[Product, list[LibraryEntry]]]:
    for _, group in groupby(rows, key=lambda row: row[1].id):
        group = list(group)
        yield group[0][1], [LibraryEntry(service.view(document, product), bool(is_current))
                            for document, product, is_current in group]
