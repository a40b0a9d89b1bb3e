"""The demo data's supplier documents: every demo grade has an SDS, a specification sheet and certificates as real
PDFs in storage, the USP grade's Kosher certificate has an older version, and one certificate ends within 60 days,
so that the staff dashboard shows a flag; loading the demo again adds none."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from shop.catalog.models import Product
from shop.demo import seed_demo
from shop.documents import service
from shop.documents.models import ProductDocument
from shop.platform.extensions import db
from shop.reporting import reports


def test_each_demo_grade_has_its_documents_as_pdfs_and_one_certificate_is_flagged(app):
    today = date(2026, 12, 6)
    assert seed_demo(today)["documents"] > 0
    db.session.commit()
    products = db.session.scalars(select(Product).order_by(Product.position)).all()
    current = service.current_documents([p.id for p in products])
    for product in products:
        kinds = [d.kind for d in current[product.id]]
        assert {"sds", "specification"} <= set(kinds), product.slug
        assert sum(kind.is_certificate for kind in kinds) >= 2, product.slug
    usp = next(p for p in products if p.slug == "l-leucine-usp")
    kosher = [d.version for d in service.versions(usp.id) if d.kind == "kosher"]
    assert kosher == ["2026", "2025"]
    view, data = service.read_file(current[usp.id][1].id)
    assert view.kind == "specification" and data.startswith(b"%PDF-")

    flagged = reports.flagged_certificates(today)
    assert [(f.document.product_slug, f.document.kind.value, f.days_left) for f in flagged] == [
        ("l-leucine-fcc", "halal", 45)]

    count = db.session.scalar(select(func.count(ProductDocument.id)))
    assert seed_demo(today)["documents"] == 0
    assert db.session.scalar(select(func.count(ProductDocument.id))) == count
