"""Issue 21 item 14 on the staff side, in Debian's chromium: an admin revokes a customer's API key, deactivates a
customer and deletes a price list, each after a page that asks to confirm; screenshots as
screenshots/staff-confirm-*.png."""
from __future__ import annotations

import pytest

from shop.accounts import people as accounts
from shop.catalog import price_lists
from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, axe_violations, overflow, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_staff

pytestmark = pytest.mark.browser


def _go(page, control) -> None:
    with page.expect_navigation():
        control.click()


def test_staff_revoke_a_key_deactivate_a_customer_and_delete_a_price_list_after_confirming(live_server, new_page,
                                                                                           product):
    customer = make_customer("erp@acme.example", "Acme Nutrition")
    accounts.create_api_key(customer, "ERP integration (SAP)")
    price_lists.create_price_list(customer.company, "Contract 2027",
                                  "sku,min_quantity,unit_price\nLEU-USP-25KG,1,1700.00\n")
    make_staff("admin", email="admin@shop.example")
    db.session.commit()
    company_id = customer.company_id
    db.session.remove()

    page = staff_signed_in(new_page, live_server, "admin@shop.example", DESKTOP)

    page.goto(live_server + "/staff/customers")
    revoke = page.get_by_role("link", name="Revoke key")
    _go(page, revoke)
    assert page.get_by_role("heading", name="Revoke API key ERP integration (SAP)?").is_visible()
    assert "Acme Nutrition" in page.locator("dl.facts").inner_text()
    screenshot(page, "staff-confirm-revoke-key-1280")
    assert axe_violations(page) == []
    _go(page, page.get_by_role("link", name="Keep the key"))  # changes nothing
    _go(page, page.get_by_role("link", name="Revoke key"))
    _go(page, page.get_by_role("button", name="Yes, revoke ERP integration (SAP)"))
    assert page.get_by_text("is revoked").is_visible()
    assert page.get_by_role("link", name="Revoke key").count() == 0

    page.set_viewport_size(PHONE)
    _go(page, page.get_by_role("link", name="Deactivate Acme Nutrition…"))
    assert page.get_by_role("heading", name="Deactivate erp@acme.example of Acme Nutrition?").is_visible()
    screenshot(page, "staff-confirm-deactivate-390")
    assert overflow(page) == 0
    assert axe_violations(page) == []
    _go(page, page.get_by_role("button", name="Yes, deactivate erp@acme.example"))
    assert page.get_by_text("is deactivated").is_visible()
    assert page.get_by_role("button", name="Reactivate Acme Nutrition").is_visible()

    page.set_viewport_size(DESKTOP)
    page.goto(live_server + f"/staff/companies/{company_id}")
    _go(page, page.get_by_role("link", name="Delete Contract 2027…"))
    assert page.get_by_role("heading", name="Delete price list Contract 2027 of Acme Nutrition?").is_visible()
    screenshot(page, "staff-confirm-delete-price-list-1280")
    assert axe_violations(page) == []
    _go(page, page.get_by_role("button", name="Yes, delete Contract 2027"))
    assert page.get_by_text("The price list is deleted.").is_visible()
    assert page.get_by_text("No contract prices").is_visible()
