"""/api/v1/specifications: a company's own limits on a grade, who may set them, and what they change at once:
the availability it sees and the certificates it reads."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.accounts import people as accounts
from shop.platform.extensions import db
from shop.specifications.models import CustomerLimit, CustomerSpecification
from tests.support.api import ApiClient, admin_key, assert_problem, available
from tests.support.factories import make_lot, make_member, make_product
from tests.support.specifications import make_lot_with, set_limits
from tests.support.sql import count_statements

ASSAY = "Assay (dried basis)"
SPEC_URL = "/api/v1/specifications/l-leucine-usp"


def _stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(CustomerSpecification.id))),
            db.session.scalar(select(func.count(CustomerLimit.id))))


def _key(api: ApiClient, role: str, email: str) -> ApiClient:
    """A key of `api`'s company with `role`, made by a member of that role."""
    member = make_member(api.customer, email, role)
    key = accounts.create_api_key(member, f"{role} key", role)
    db.session.commit()
    return ApiClient(api.client, key, member)


@pytest.fixture
def approver(api) -> ApiClient:
    return _key(api, "approver", "approver@acme.example")


@pytest.fixture
def mixed(app):
    """The USP grade with a lot assaying 99.2 % (iron 20 ppm; 6 drums) and one assaying 100.0 % (iron 5 ppm;
    10 drums), both within the grade."""
    product = make_product()
    make_lot_with(product, "L-LOW", {"LEU-USP-25KG": 6}, {ASSAY: "99.2", "Iron": "20"}, expires_in_days=300)
    make_lot_with(product, "L-HIGH", {"LEU-USP-25KG": 10}, {ASSAY: "100.0", "Iron": "< 5"}, expires_in_days=600)
    return product


def test_an_approver_sets_reads_and_removes_a_specification(api, approver, mixed):
    put = approver.client.put(SPEC_URL, headers=approver.headers(), json={"limits": [
        {"test": "assay (DRIED basis)", "min": "99.5"}, {"test": "Iron", "max": "10"}]})
    assert put.status_code == 200, put.get_json()
    body = put.get_json()
    assert body["product"] == "l-leucine-usp" and body["updated_by"] == "approver key" and body["updated_at"]
    assert body["limits"] == [
        {"test": ASSAY, "unit": "%", "min": "99.5", "max": None, "grade_min": "98.5", "grade_max": "101.5"},
        {"test": "Iron", "unit": "ppm", "min": None, "max": "10", "grade_min": None, "grade_max": "30"}]
    got = api.get(SPEC_URL)  # a buyer key reads it
    assert got.status_code == 200 and got.get_json() == body

    # A second PUT replaces the whole specification.
    again = approver.client.put(SPEC_URL, headers=approver.headers(), json={"limits": [{"test": "Iron", "max": "25"}]})
    assert [limit["test"] for limit in again.get_json()["limits"]] == ["Iron"]
    assert _stored() == (1, 1)

    deleted = approver.client.delete(SPEC_URL, headers=approver.headers())
    assert deleted.status_code == 204 and _stored() == (0, 0)
    assert_problem(api.get(SPEC_URL), 404, "not-found")
    assert approver.client.delete(SPEC_URL, headers=approver.headers()).status_code == 204  # none: still 204


def test_an_admin_key_may_set_it_and_the_updater_is_the_keys_name(api, mixed):
    admin = admin_key(api, "ERP integration")
    put = admin.client.put(SPEC_URL, headers=admin.headers(), json={"limits": [{"test": "Iron", "max": "10"}]})
    assert put.status_code == 200 and put.get_json()["updated_by"] == "ERP integration"


def test_a_buyer_key_may_read_but_not_set_or_remove(api, approver, mixed):
    refused = api.client.put(SPEC_URL, headers=api.headers(), json={"limits": [{"test": "Iron", "max": "10"}]})
    assert "approver" in assert_problem(refused, 403, "forbidden")["detail"]
    assert _stored() == (0, 0)
    set_limits(api.customer.company_id, [{"test": "Iron", "max": "10"}])
    assert_problem(api.client.delete(SPEC_URL, headers=api.headers()), 403, "forbidden")
    assert _stored() == (1, 1)


def test_unknown_grade_is_404_for_every_method(api, approver, mixed):
    url = "/api/v1/specifications/l-leucine-nope"
    assert_problem(approver.get(url), 404, "not-found")
    assert_problem(approver.client.put(url, headers=approver.headers(),
                                       json={"limits": [{"test": "Iron", "max": "10"}]}), 404, "not-found")
    assert_problem(approver.client.delete(url, headers=approver.headers()), 404, "not-found")


@pytest.mark.parametrize(("limits", "errors"), [
    ([{"test": "Colour", "max": "1"}], {"limits.0.test"}),
    ([{"test": "Appearance", "max": "1"}], {"limits.0.test"}),
    ([{"test": "Iron", "max": 10}], {"limits.0.max"}),
    ([{"test": "Iron", "max": "1,5"}], {"limits.0.max"}),
    ([{"test": "Iron", "max": "1e1"}], {"limits.0.max"}),
    ([{"test": ASSAY, "min": "100.5", "max": "99.5"}], {"limits.0"}),
    ([{"test": ASSAY, "min": "98.0"}], {"limits.0"}),
    ([{"test": "Iron", "max": "31"}], {"limits.0"}),
    ([{"test": "Iron"}], {"limits.0"}),
    ([{"test": "Iron", "max": "10"}, {"test": "iron", "max": "5"}], {"limits.1.test"}),
    ([{"test": "Iron", "max": "10", "typo": "1"}], {"limits.0.typo"}),
    ([], {"limits"}),
    # Every refused limit at once, the good one not stored either.
    ([{"test": "Iron", "max": "10"}, {"test": ASSAY, "min": "97"}, {"test": "Lead (Pb)", "max": "x"}],
     {"limits.1", "limits.2.max"}),
])
def test_refused_limits_are_422_by_field_path_and_store_nothing(approver, mixed, limits, errors):
    response = approver.client.put(SPEC_URL, headers=approver.headers(), json={"limits": limits})
    body = assert_problem(response, 422, "validation-error")
    assert set(body["errors"]) == errors, body["errors"]
    assert _stored() == (0, 0)


def test_a_refused_replacement_keeps_the_specification_there_was(api, approver, mixed):
    set_limits(api.customer.company_id, [{"test": "Iron", "max": "10"}])
    response = approver.client.put(SPEC_URL, headers=approver.headers(), json={"limits": [{"test": "Iron",
                                                                                             "max": "40"}]})
    assert_problem(response, 422, "validation-error")
    assert api.get(SPEC_URL).get_json()["limits"][0]["max"] == "10"


def test_another_companys_specification_is_invisible(api, rival, mixed):
    set_limits(rival.customer.company_id, [{"test": ASSAY, "min": "99.5"}])
    assert_problem(api.get(SPEC_URL), 404, "not-found")
    assert available(api, "LEU-USP-25KG") == 16  # the rival's limit does not narrow ours
    assert api.get("/api/v1/batches/L-LOW").get_json()["meets_your_specification"] is None
    assert available(rival, "LEU-USP-25KG") == 10


def test_availability_counts_only_conforming_lots_at_once(api, approver, mixed):
    assert available(api, "LEU-USP-25KG") == 16
    approver.client.put(SPEC_URL, headers=approver.headers(), json={"limits": [{"test": ASSAY, "min": "99.5"}]})
    assert available(api, "LEU-USP-25KG") == 10  # L-LOW (99.2 %) no longer counts
    listed = api.every_page("/api/v1/products")
    assert next(v for v in listed[0]["variants"] if v["sku"] == "LEU-USP-25KG")["available_quantity"] == 10
    approver.client.put(SPEC_URL, headers=approver.headers(), json={"limits": [{"test": "Iron", "max": "10"}]})
    assert available(api, "LEU-USP-25KG") == 10  # iron 20 ppm in L-LOW; '< 5' in L-HIGH meets a max of 10
    approver.client.put(SPEC_URL, headers=approver.headers(), json={"limits": [{"test": "Iron", "max": "4"}]})
    assert available(api, "LEU-USP-25KG") == 0  # '< 5' cannot be shown to be at most 4
    approver.client.delete(SPEC_URL, headers=approver.headers())
    assert available(api, "LEU-USP-25KG") == 16


def test_a_specification_of_one_grade_leaves_the_others_alone(api, mixed):
    other = make_product("l-leucine-ep", "EP", "LEU-EP")
    make_lot(other, "EP-1", {"LEU-EP-25KG": 4})
    set_limits(api.customer.company_id, [{"test": ASSAY, "min": "99.9"}])
    assert available(api, "LEU-EP-25KG", "l-leucine-ep") == 4
    assert available(api, "LEU-USP-25KG") == 10


def test_the_certificate_says_whether_the_lot_meets_your_specification(api, mixed):
    plain = api.get("/api/v1/batches/L-LOW").get_json()
    assert plain["meets_your_specification"] is None
    assert all("your_min" not in r and "your_max" not in r for r in plain["results"])

    set_limits(api.customer.company_id, [{"test": ASSAY, "min": "99.5"}, {"test": "Iron", "max": "10"}])
    low = api.get("/api/v1/batches/l-low").get_json()
    assert low["meets_your_specification"] is False
    results = {r["test"]: r for r in low["results"]}
    assert (results[ASSAY]["your_min"], results[ASSAY]["your_max"]) == ("99.5", None)
    assert results[ASSAY]["passed"] is True and results[ASSAY]["meets_your_specification"] is False
    assert (results["Iron"]["your_min"], results["Iron"]["your_max"]) == (None, "10")
    assert "your_min" not in results["Loss on drying"]
    high = api.get("/api/v1/batches/L-HIGH").get_json()
    assert high["meets_your_specification"] is True
    assert {r["test"]: r.get("meets_your_specification") for r in high["results"]}["Iron"] is True


def _product_statements(api) -> int:
    with count_statements(fresh_session=True) as statements:
        response = api.get("/api/v1/products/l-leucine-usp")
    assert response.status_code == 200
    return len(statements)


def test_product_detail_costs_the_same_statements_with_2_lots_as_with_6(api, mixed):
    bare = _product_statements(api)
    set_limits(api.customer.company_id, [{"test": ASSAY, "min": "99.5"}])
    with_2 = _product_statements(api)
    for i in range(4):
        make_lot_with(mixed, f"L-MORE-{i}", {"LEU-USP-25KG": 1}, {ASSAY: "99.1" if i % 2 else "99.8"})
    with_6 = _product_statements(api)
    assert with_6 == with_2 <= bare + 1
    assert available(api, "LEU-USP-25KG") == 12
