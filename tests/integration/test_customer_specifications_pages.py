"""A company's specifications on its pages: approvers and admins set them beside the grade's limits (errors beside
the field, nothing stored), buyers read them, staff see them on the company's page; the product page counts and
lists only the lots that meet them, and the CoA page says whether a lot does."""
from __future__ import annotations

import re

import pytest
from flask import g
from sqlalchemy import func, select

from shop.catalog import products
from shop.catalog.models import SpecTest
from shop.platform.extensions import db
from shop.specifications.models import CustomerLimit, CustomerSpecification
from tests.support.factories import make_customer, make_member, make_product
from tests.support.specifications import make_lot_with, set_limits
from tests.support.sql import count_statements
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import field_error, sign_in

ASSAY = "Assay (dried basis)"
URL = "/account/specifications/l-leucine-usp"
MEMBER_PASSWORD = "a long unusual passphrase"


@pytest.fixture
def mixed(app):
    """The USP grade with a lot assaying 99.2 % (6 drums) and one assaying 100.0 % (10 drums)."""
    product = make_product()
    make_lot_with(product, "L-LOW", {"LEU-USP-25KG": 6}, {ASSAY: "99.2", "Iron": "20"}, expires_in_days=300)
    make_lot_with(product, "L-HIGH", {"LEU-USP-25KG": 10}, {ASSAY: "100.0", "Iron": "< 5"}, expires_in_days=600)
    return product


@pytest.fixture
def admin(app):
    return make_customer("admin@acme.example", "Acme Nutrition")


def _test_id(name: str) -> int:
    return db.session.scalar(select(SpecTest.id).where(SpecTest.name == name))


def _stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count(CustomerSpecification.id))),
            db.session.scalar(select(func.count(CustomerLimit.id))))


def test_an_admin_sets_limits_beside_the_grades_and_sees_them_again(client, mixed, admin):
    sign_in(client, "admin@acme.example")
    account = client.get("/account").text
    assert 'href="/account/specifications"' in account  # in the account navigation
    listing = client.get("/account/specifications").text
    assert "L-Leucine USP" in listing and "none: the grade" in listing
    page = client.get(URL).text
    assert "Assay (dried basis): the grade's limits 98.5 – 101.5 %" in page
    assert f'<label for="min_{_test_id(ASSAY)}">Assay (dried basis): your minimum (%)</label>' in page
    assert f'<label for="max_{_test_id("Iron")}">Iron: your maximum (ppm)</label>' in page
    assert "Appearance" not in page  # a test without numeric limits has nothing to tighten
    assert "Save specification" in page and "Remove specification" not in page

    saved = client.post(URL, data={f"min_{_test_id(ASSAY)}": "99.5", f"max_{_test_id('Iron')}": " 10 "})
    assert saved.status_code == 303
    page = client.get(URL).text
    assert "is saved" in page and "by admin@acme.example" in page
    assert re.search(rf'<input[^>]*name="min_{_test_id(ASSAY)}"[^>]*value="99.5"', page), page
    assert "Remove specification" in page
    assert "Assay (dried basis) ≥ 99.5 %; Iron ≤ 10 ppm" in client.get("/account/specifications").text


@pytest.mark.parametrize(("fields", "where", "says"), [
    ({"min_assay": "98.0"}, "min_assay", "looser than the grade"),
    ({"min_assay": "100.5", "max_assay": "99.5"}, "min_assay", "is above the max"),
    ({"max_iron": "1,5"}, "max_iron", "not a plain decimal number"),
    ({"min_iron": "5", "max_iron": "40"}, "min_iron", "looser than the grade"),
])
def test_a_refused_limit_is_shown_beside_its_field_and_nothing_is_stored(client, mixed, admin, fields, where, says):
    sign_in(client, "admin@acme.example")
    ids = {"assay": _test_id(ASSAY), "iron": _test_id("Iron")}

    def real(name: str) -> str:
        end, test = name.split("_")
        return f"{end}_{ids[test]}"

    response = client.post(URL, data={real(name): value for name, value in fields.items()})
    assert response.status_code == 422
    assert says in (field_error(response.text, real(where)) or ""), response.text
    assert f'value="{next(iter(fields.values()))}"' in response.text  # what was typed stays
    assert _stored() == (0, 0)


def test_an_empty_form_asks_for_a_limit_and_points_to_removal(client, mixed, admin):
    sign_in(client, "admin@acme.example")
    response = client.post(URL, data={})
    assert response.status_code == 422 and "Fill in at least one minimum or maximum" in response.text
    assert _stored() == (0, 0)


def test_an_approver_may_edit_and_a_buyer_only_reads(client, mixed, admin):
    make_member(admin, "boss@acme.example", "approver")
    make_member(admin, "buyer@acme.example", "buyer")
    sign_in(client, "boss@acme.example", MEMBER_PASSWORD)
    assert client.post(URL, data={f"min_{_test_id(ASSAY)}": "99.5"}).status_code == 303
    client.post("/sign-out")

    sign_in(client, "buyer@acme.example", MEMBER_PASSWORD)
    page = client.get(URL).text
    assert "Save specification" not in page and "<input" not in page.split("<main", 1)[-1].split("</main>")[0] \
        .replace('type="hidden"', "")  # no field to fill in
    assert "≥ 99.5 %" in page and "98.5 – 101.5 %" in page and "you may read it" in page
    assert client.post(URL, data={f"min_{_test_id(ASSAY)}": "99.9"}).status_code == 403
    assert client.get(f"{URL}/remove").status_code == 403
    assert client.post(f"{URL}/remove", data={"confirm": "yes"}).status_code == 403
    assert _stored() == (1, 1)


def test_removing_asks_first_then_removes(client, mixed, admin):
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}])
    sign_in(client, "admin@acme.example")
    assert client.post(f"{URL}/remove").status_code == 303 and _stored() == (1, 1)  # not confirmed: nothing
    confirm = client.get(f"{URL}/remove").text
    assert "Yes, remove the specification" in confirm and "Keep the specification" in confirm
    assert "Assay (dried basis) ≥ 99.5 %" in confirm
    assert client.post(f"{URL}/remove", data={"confirm": "yes"}).status_code == 303
    assert _stored() == (0, 0)
    assert "is removed" in client.get("/account/specifications").text


def test_another_companys_specification_is_not_shown(client, mixed, admin):
    rival = make_customer("admin@rival.example", "Rival Labs")
    set_limits(rival.company_id, [{"test": ASSAY, "min": "99.5"}])
    sign_in(client, "admin@acme.example")
    assert "≥ 99.5" not in client.get(URL).text
    assert "10 in stock" not in client.get("/products/l-leucine-usp").text  # 16: both lots count for us


def test_staff_see_the_companys_specification_on_its_page(app, mixed, admin):
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}, {"test": "Iron", "max": "10"}], by="Bob")
    staff = app.test_client()
    staff_sign_in(staff, "admin")
    page = staff.get(f"/staff/companies/{admin.company_id}").text
    section = page[page.index('id="specifications-h"'):]
    assert "L-Leucine USP" in section and "Set " in section and "by Bob" in section
    assert re.search(r"Assay \(dried basis\)</td><td[^>]*>98.5 – 101.5 %</td><td[^>]*>≥ 99.5 %", section)
    assert re.search(r"Iron</td><td[^>]*>≤ 30 ppm</td><td[^>]*>≤ 10 ppm", section)


def test_the_product_page_counts_and_lists_only_conforming_lots(client, mixed, admin):
    assert "16 in stock" in client.get("/products/l-leucine-usp").text  # anonymous: every lot
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}])
    sign_in(client, "admin@acme.example")
    page = client.get("/products/l-leucine-usp").text
    assert "10 in stock" in page and "16 in stock" not in page
    assert "L-HIGH" in page and "L-LOW" not in page
    assert "1 lot in stock does not meet it" in page
    client.post("/sign-out")
    assert "16 in stock" in client.get("/products/l-leucine-usp").text


def _page_statements(client) -> int:
    db.session.remove()
    g.pop("_login_user", None)
    assert client.get("/products/l-leucine-usp").status_code == 200  # warm the catalog cache
    db.session.remove()
    g.pop("_login_user", None)
    with count_statements() as statements:
        assert client.get("/products/l-leucine-usp").status_code == 200
    return len(statements)


def test_the_product_page_costs_the_same_statements_with_2_lots_as_with_6(client, mixed, admin):
    sign_in(client, "admin@acme.example")
    without = _page_statements(client)
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}])
    with_2 = _page_statements(client)
    for i in range(4):
        make_lot_with(mixed, f"L-MORE-{i}", {"LEU-USP-25KG": 1}, {ASSAY: "99.1" if i % 2 else "99.8"})
    products.clear_product_snapshots()
    with_6 = _page_statements(client)
    assert with_6 == with_2 == without + 1
    assert "12 in stock" in client.get("/products/l-leucine-usp").text


def test_the_coa_page_says_whether_the_lot_meets_your_specification(client, mixed, admin):
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}])
    assert "your specification" not in client.get("/coa/L-LOW").text  # anonymous: the CoA alone
    sign_in(client, "admin@acme.example")
    low = client.get("/coa/L-LOW").text
    assert "Does not meet your specification" in low
    assert "≥ 99.5 %: <span class=\"fail\">does not meet your specification</span>" in low
    high = client.get("/coa/L-HIGH").text
    assert "Meets your specification" in high and "Does not meet" not in high
    assert "≥ 99.5 %: <span class=\"pass\">meets your specification</span>" in high
    rival = make_customer("buyer@rival.example", "Rival Labs")
    assert rival.id
    client.post("/sign-out")
    sign_in(client, "buyer@rival.example")
    assert "your specification" not in client.get("/coa/L-LOW").text  # no specification of its own


def test_the_pdf_stays_the_legal_coa(client, mixed, admin):
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}])
    anonymous = client.get("/coa/L-LOW.pdf").data
    sign_in(client, "admin@acme.example")
    from tests.support.storefront import pdf_strings

    assert not any("specification" in s.lower() and "your" in s.lower()
                   for s in pdf_strings(client.get("/coa/L-LOW.pdf").data))
    assert len(anonymous) > 0


def test_the_form_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_product()
        make_customer("admin@acme.example", "Acme Nutrition")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/sign-in").text).group(1)
        assert sign_in(client, "admin@acme.example", csrf_token=token).status_code == 302
        page = client.get(URL).text
        assert 'name="csrf_token"' in page
        refused = client.post(URL, data={f"min_{_test_id(ASSAY)}": "99.5"})
        assert refused.status_code == 400
        assert _stored() == (0, 0)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post(URL, data={f"min_{_test_id(ASSAY)}": "99.5", "csrf_token": token}).status_code == 303
        assert _stored() == (1, 1)


def test_the_cart_counts_only_conforming_lots(client, mixed, admin):
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}])
    sign_in(client, "admin@acme.example")
    client.post("/cart/add", data={"sku": "LEU-USP-25KG", "quantity": "12"})
    cart = client.get("/cart").text
    assert "10 available now" in cart and "16 available now" not in cart


def test_the_catalog_says_out_of_stock_when_no_lot_in_stock_meets_the_specification(client, mixed, admin):
    def badge() -> str:
        page = client.get("/").text
        return re.search(r'badge badge-\w+">([^<]+)<', page).group(1)

    set_limits(admin.company_id, [{"test": ASSAY, "min": "100.5"}])  # neither lot assays that high
    assert badge() == "In stock"  # anonymous: every lot
    sign_in(client, "admin@acme.example")
    assert badge() == "Out of stock"
    set_limits(admin.company_id, [{"test": ASSAY, "min": "99.5"}])
    assert badge() == "In stock"
