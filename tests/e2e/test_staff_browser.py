"""In chromium: warehouse receives a lot, quality releases it, it sells, fulfilment ships, the trace finds the buyer."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from shop import ordering
from shop.demo import in_spec_value
from shop.platform.extensions import db
from tests.support.billing import pay_in_full
from tests.support.browser import screenshot
from tests.support.factories import make_customer, make_staff
from tests.support.staff import ADDRESS

pytestmark = pytest.mark.browser


def _sign_in(new_page, live_server, role: str, email: str | None = None):
    page = new_page()
    page.goto(live_server + "/staff/")
    assert page.url.startswith(live_server + "/staff/login")
    page.get_by_label("Email").fill(email or f"{role}@shop.example")
    page.get_by_label("Password").fill("staff password")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Dashboard"
    return page


def test_lot_from_receipt_to_release_to_sale_to_shipment_to_trace(live_server, new_page, product):
    for role in ("warehouse", "quality", "fulfilment"):
        make_staff(role)
    make_staff("quality", email="reviewer@shop.example")
    customer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    tests = [(t.name, t.qualitative, in_spec_value(t)) for t in product.spec_tests]
    db.session.commit()  # no open transaction: the server thread must be free to write to the SQLite file

    # The warehouse books lot USP-2799 into quarantine: 12 drums of 25 kg.
    warehouse = _sign_in(new_page, live_server, "warehouse")
    warehouse.get_by_role("link", name="Receive lot").click()
    warehouse.get_by_label("Product").select_option("l-leucine-usp")
    warehouse.get_by_role("button", name="Choose product").click()
    warehouse.get_by_label("Lot number").fill("USP-2799")
    warehouse.get_by_label("Manufactured on").fill((date.today() - timedelta(days=3)).isoformat())
    warehouse.get_by_label("Expiry or retest date").fill((date.today() + timedelta(days=1000)).isoformat())
    warehouse.get_by_label("LEU-USP-25KG (25 kg packs): units").fill("12")
    warehouse.get_by_role("button", name="Receive lot").click()
    assert warehouse.locator("h1").inner_text().startswith("Lot USP-2799")
    assert "received into quarantine" in warehouse.locator(".flashes").inner_text()
    assert warehouse.get_by_role("button", name="Sign and release lot").count() == 0  # not the warehouse's decision

    storefront = new_page()
    storefront.goto(live_server + "/products/l-leucine-usp")
    assert "USP-2799" not in storefront.content()

    # Quality records in-spec results and sees each one pass; a second quality user releases the lot, signed.
    quality = _sign_in(new_page, live_server, "quality")
    quality.goto(live_server + "/staff/batches/USP-2799")
    for name, qualitative, value in tests:
        field = quality.get_by_label(name, exact=True)
        field.select_option(value) if qualitative else field.fill(value)
    quality.get_by_role("button", name="Save results").click()
    assert "13 results saved for lot USP-2799." in quality.locator(".flashes").inner_text()
    assert quality.locator("table.coa .badge-good").count() == 13
    reviewer = _sign_in(new_page, live_server, "quality", "reviewer@shop.example")
    reviewer.goto(live_server + "/staff/batches/USP-2799")
    reviewer.get_by_label("I release lot USP-2799 as meeting its specification.").check()
    reviewer.get_by_label("Your password, to sign").first.fill("staff password")
    reviewer.get_by_role("button", name="Sign and release lot").click()
    assert "Lot USP-2799 released" in reviewer.locator(".flashes").inner_text()
    assert reviewer.locator("h1 .badge").first.inner_text() == "released"
    screenshot(reviewer, "staff-batch")

    # Its units are now on sale on the storefront product page.
    storefront.goto(live_server + "/products/l-leucine-usp")
    pack = storefront.locator("section.pack", has_text="LEU-USP-25KG")
    assert "12 in stock" in pack.inner_text()
    assert storefront.locator("table.lots", has_text="USP-2799").count() == 1

    # A customer orders 5 drums (through the same order service the storefront and the API use).
    order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 5}], ADDRESS)
    number = order.number
    db.session.commit()
    pay_in_full(number)  # prepaid: finance records the payment before it may ship

    # Fulfilment confirms and ships it with a tracking reference.
    fulfilment = _sign_in(new_page, live_server, "fulfilment")
    fulfilment.get_by_role("link", name="Orders", exact=True).click()
    fulfilment.get_by_role("link", name=number).click()
    assert "USP-2799 × 5" in fulfilment.locator("table").first.inner_text()
    fulfilment.get_by_role("button", name="Confirm order").click()
    fulfilment.get_by_label("Tracking reference").fill("DHL-JJD000390007")
    fulfilment.get_by_role("button", name="Ship these units").click()
    assert f"Order {number} shipped." in fulfilment.locator(".flashes").inner_text()

    # The lot's traceability page names the customer who received it.
    fulfilment.goto(live_server + "/staff/trace/lot/USP-2799")
    row = fulfilment.locator("tr", has_text=number)
    assert "Northwind Nutrition GmbH" in row.inner_text() and "buyer@northwind.example" in row.inner_text()
    assert "shipped" in row.inner_text() and "5" in row.inner_text()
    screenshot(fulfilment, "staff-trace-lot")

    fulfilment.goto(live_server + "/staff/")
    assert "USP-2799" in fulfilment.locator("table.stock-table").inner_text()
    assert fulfilment.locator("figure.chart svg rect.bar").count() >= 1
    screenshot(fulfilment, "staff-dashboard")
