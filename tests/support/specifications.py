"""Helpers of the customer-specification tests (no tests here): lots with chosen results, a company's limits."""
from __future__ import annotations

from datetime import date, timedelta

from shop.catalog.models import Product
from shop.inventory import lots as inventory
from shop.platform.extensions import db
from shop.quality import release
from shop.specifications import service
from tests.support.factories import good_results, releaser, signed


def make_lot_with(product: Product, lot_number: str, units: dict[str, int], results: dict[str, str], *,
                  expires_in_days: int = 700):
    """A released lot whose results are the grade's good ones with `results` (by test name) instead."""
    batch = inventory.receive_batch(product.slug, lot_number, date.today() - timedelta(days=30),
                                    date.today() + timedelta(days=expires_in_days), units)
    release.record_results(batch, {**good_results(product), **results})
    release.release_batch(batch, signed(releaser(), "release", lot_number))
    db.session.commit()
    return batch


def set_limits(company_id: int, limits: list[dict], slug: str = "l-leucine-usp", by: str = "tests"):
    """Store a company's specification through the service, committed."""
    spec = service.put_specification(company_id, slug, limits, by)
    db.session.commit()
    return spec
