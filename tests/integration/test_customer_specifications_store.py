"""The stored specification: replaced whole by each PUT, deleted on request, and which lots meet it."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop.platform.errors import InvalidInput, NotFound
from shop.platform.extensions import db
from shop.specifications import service
from shop.specifications.models import CustomerLimit
from tests.support.factories import good_results, make_lot

DRUM = "LEU-USP-25KG"


def test_a_specification_is_replaced_whole_and_a_test_limited_again_keeps_one_row(app, product, customer):
    company = customer.company_id
    service.put_specification(company, product.slug, [{"test": "Assay (dried basis)", "min": "99.0"},
                               {"test": "Iron", "max": "10"}],
                              "Ada")
    db.session.commit()
    stored = service.put_specification(company, product.slug, [{"test": "assay (DRIED basis)", "min": "99.2"}], "Bo")
    db.session.commit()
    assert [(limit.test, limit.min, limit.max) for limit in stored.limits] == [
        ("Assay (dried basis)", Decimal("99.2"), None)]
    assert stored.updated_by == "Bo"
    assert db.session.scalar(select(func.count()).select_from(CustomerLimit)) == 1
    assert service.delete_specification(company, product.slug) is True
    db.session.commit()
    with pytest.raises(NotFound):
        service.get_specification(company, product.slug)


def test_a_refused_specification_stores_nothing_and_keeps_the_earlier_one(app, product, customer):
    company = customer.company_id
    service.put_specification(company, product.slug, [{"test": "Assay (dried basis)", "min": "99.0"}], "Ada")
    db.session.commit()
    with pytest.raises(InvalidInput) as refused:
        service.put_specification(company, product.slug, [{"test": "Assay (dried basis)", "min": "1,500"}], "Ada")
    assert list(refused.value.errors) == ["limits.0.min"]
    db.session.rollback()
    assert service.get_specification(company, product.slug).limits[0].min == Decimal("99.0")


def test_conformance_judges_each_lot_by_the_companys_limits(app, product, customer):
    results = good_results(product)
    assay = next(name for name in results if name.lower().startswith("assay"))
    tight = make_lot(product, "L-TIGHT", {DRUM: 5}, results={**results, assay: "99.6"})
    loose = make_lot(product, "L-LOOSE", {DRUM: 5}, results={**results, assay: "98.7"})
    service.put_specification(customer.company_id, product.slug, [{"test": assay, "min": "99.0"}], "Ada")
    db.session.commit()
    found = service.conformance(customer.company_id, [tight.id, loose.id])
    assert found.applies(product.id)
    assert found.meets(tight.id) and not found.meets(loose.id)
    assert [limit.test for limit in found.failures(loose.id)] == [assay]
    assert service.conformance(None, [tight.id, loose.id]).meets(loose.id)
