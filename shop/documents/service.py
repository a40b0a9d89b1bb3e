"""Use cases and read models of product documents: quality staff add a version; product pages, the API and orders
read the current version of each kind; every version stays downloadable; certificates near their end are listed."""
from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from shop.catalog.models import Product
from shop.documents import rules
from shop.documents.models import ProductDocument
from shop.documents.rules import DocumentKind, Validity
from shop.platform.errors import InvalidInput, NotFound
from shop.platform.extensions import db
from shop.platform.storage import StoredFileMissing, storage
from shop.platform.uploads import Upload

TITLE_MAX, VERSION_MAX = 200, 40


@dataclass(frozen=True, slots=True)
class DocumentView:
    """One stored version of a product document, as pages and the API show it."""

    id: int
    product_id: int
    product_slug: str
    product_name: str
    kind: DocumentKind
    title: str
    version: str
    issued_on: date
    valid_until: date | None
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime

    @property
    def kind_label(self) -> str:
        return self.kind.label

    @property
    def file_name(self) -> str:
        """The name a download is saved under: product, kind and version, in safe characters."""
        stem = "-".join((self.product_slug, self.kind.value, self.version))
        return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") + ".pdf"

    def validity(self, today: date) -> Validity:
        return rules.validity(self.valid_until, today)


def view(document: ProductDocument, product: Product | None = None) -> DocumentView:
    """A stored version as pages and the API show it; `product`: its product when the caller read it beside the
    document (else the document's own, loaded with it)."""
    product = product or document.product
    return DocumentView(id=document.id, product_id=product.id, product_slug=product.slug, product_name=product.name,
                        kind=DocumentKind(document.kind), title=document.title, version=document.version,
                        issued_on=document.issued_on, valid_until=document.valid_until,
                        size_bytes=document.size_bytes, uploaded_by=document.uploaded_by,
                        uploaded_at=document.uploaded_at)


def add_document(*, product_id: int, kind: str, title: str, version: str, issued_on: date,
                 valid_until: date | None, upload: Upload, uploaded_by: str, today: date | None = None) -> DocumentView:
    """Store a new version of a product's document (flushed, not committed); InvalidInput by field for a bad kind,
    title, version or dates, or a version of that kind the product already has."""
    product = db.session.get(Product, product_id)
    if product is None:
        raise InvalidInput({"product": ["Choose a product of the catalog."]})
    errors: dict[str, list[str]] = {}
    try:
        document_kind = DocumentKind(kind)
    except ValueError:
        errors["kind"] = [f"Choose one of: {', '.join(k.value for k in DocumentKind)}."]
        document_kind = None
    title, version = title.strip(), version.strip()
    if not title or len(title) > TITLE_MAX:
        errors["title"] = [f"Enter a title of 1 to {TITLE_MAX} characters."]
    if not version or len(version) > VERSION_MAX:
        errors["version"] = [f"Enter a version of 1 to {VERSION_MAX} characters, such as 3 or 2026-1."]
    if document_kind is not None:
        errors.update(rules.date_problems(document_kind, issued_on, valid_until, today or date.today()))
    if upload.kind != "pdf":
        errors["file"] = ["Product documents are PDFs."]
    if document_kind is not None and not errors.get("version") and _has_version(product.id, document_kind, version):
        errors["version"] = [f"{product.name} already has version {version} of its {document_kind.label.lower()}: "
                             f"give the new one its own version."]
    if errors:
        raise InvalidInput(errors)
    key = storage().put(upload.data, suffix=upload.suffix)
    document = ProductDocument(product_id=product.id, kind=document_kind.value, title=title, version=version,
                               issued_on=issued_on, valid_until=valid_until, storage_key=key,
                               size_bytes=len(upload.data), uploaded_by=uploaded_by)
    try:
        with db.session.begin_nested():
            db.session.add(document)
    except IntegrityError:  # the same version stored by someone else a moment ago
        storage().delete(key)
        raise InvalidInput({"version": [f"Version {version} of this document was just stored by someone else."]})\
            from None
    except BaseException:
        storage().delete(key)
        raise
    return view(document, product)


def _has_version(product_id: int, kind: DocumentKind, version: str) -> bool:
    """Whether the product has that version of the document, in any letter case ("qa-6" is "QA-6" again, as a lot
    number is)."""
    return db.session.scalar(select(ProductDocument.id).where(
        ProductDocument.product_id == product_id, ProductDocument.kind == kind.value,
        func.lower(ProductDocument.version) == version.lower())) is not None


def versions(product_id: int) -> list[DocumentView]:
    """Every version of every document of a product: by kind, newest first within each."""
    rows = db.session.execute(
        select(ProductDocument, Product).join(Product, Product.id == ProductDocument.product_id)
        .where(ProductDocument.product_id == product_id)
        .order_by(ProductDocument.kind, ProductDocument.issued_on.desc(), ProductDocument.id.desc())).all()
    return [view(document, product) for document, product in rows]


def current_ids(product_ids: Collection[int] | None = None) -> Select[tuple[int]]:
    """A select of the id of the current version of each kind of document of these products (all products when
    None): the latest issued, the latest stored among versions issued the same day. Also for recording an order's
    documents in one INSERT … SELECT."""
    rank = func.row_number().over(partition_by=(ProductDocument.product_id, ProductDocument.kind),
                                  order_by=(ProductDocument.issued_on.desc(), ProductDocument.id.desc()))
    ranked = select(ProductDocument.id, rank.label("rank"))
    if product_ids is not None:
        ranked = ranked.where(ProductDocument.product_id.in_(product_ids))
    ranked = ranked.subquery()
    return select(ranked.c.id).where(ranked.c.rank == 1)


def current_documents(product_ids: Collection[int] | None = None) -> dict[int, list[DocumentView]]:
    """The current version of each kind of document, per product (all products when `product_ids` is None), in
    the kinds' order; one statement."""
    query = (select(ProductDocument, Product).join(Product, Product.id == ProductDocument.product_id)
             .where(ProductDocument.id.in_(current_ids(product_ids))))
    found: dict[int, list[DocumentView]] = {}
    for document, product in sorted(db.session.execute(query).all(), key=lambda row: rules.KIND_ORDER[row[0].kind]):
        found.setdefault(product.id, []).append(view(document, product))
    return found


def read_file(document_id: int) -> tuple[DocumentView, bytes]:
    """A stored version and its PDF; NotFound when there is no such document (or its file has gone)."""
    row = db.session.execute(select(ProductDocument, Product).join(Product, Product.id == ProductDocument.product_id)
                             .where(ProductDocument.id == document_id)).first()
    if row is None:
        raise NotFound("There is no such document.")
    document, product = row
    try:
        data = storage().get(document.storage_key)
    except StoredFileMissing:
        raise NotFound("This document's file is missing from storage; quality has to upload it again.") from None
    return view(document, product), data


def expiring_certificates(today: date, days: int = rules.FLAG_DAYS) -> list[tuple[DocumentView, Validity]]:
    """The current certificates that have ended or end within `days` of `today`, soonest first, each with its
    validity (expired or expiring)."""
    rows = db.session.execute(
        select(ProductDocument, Product).join(Product, Product.id == ProductDocument.product_id)
        .where(ProductDocument.id.in_(current_ids()), ProductDocument.valid_until.is_not(None),
               ProductDocument.valid_until <= today + timedelta(days=days))
        .order_by(ProductDocument.valid_until, Product.name, ProductDocument.kind)).all()
    views = [view(document, product) for document, product in rows]
    return [(view, rules.validity(view.valid_until, today, days)) for view in views]
