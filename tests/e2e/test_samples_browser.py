"""Issue 26's samples in Debian's chromium: a buyer asks for a sample from a product page (too many grams first,
refused beside the field), sales ship it from a lot's stock, the buyer reads the lot and tracking reference, and
quality finds the sample on the lot's traceability page. Screenshots as screenshots/samples-*.png."""
from __future__ import annotations

import re

import pytest

from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, axe_violations, buyer_signed_in, overflow, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_lot, make_staff

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"


def test_a_buyer_asks_for_a_sample_sales_ship_it_and_the_lot_trace_lists_it(live_server, new_page, product):
    make_lot(product, "USP-2601", {"LEU-USP-1KG": 20, "LEU-USP-25KG": 6}, expires_in_days=300)
    make_customer("anna@acme.example", "Acme Nutrition", PASSWORD)
    make_staff("sales", "sam@shop.example")
    make_staff("quality", "quinn@shop.example")
    db.session.remove()

    page = buyer_signed_in(new_page, live_server, "anna@acme.example", PASSWORD, DESKTOP)
    page.goto(f"{live_server}/products/l-leucine-usp")
    page.get_by_role("link", name="Request a sample").click()
    assert page.locator("h1").inner_text() == "Request a sample of L-Leucine USP"
    page.get_by_label("Grams").fill("6000")
    page.get_by_label("Note for our sales team").fill("For our formulation lab, Dr. Weber.")
    page.get_by_label("Address line 1").fill("Werkstraße 5")
    page.get_by_label("Postal code").fill("20095")
    page.get_by_label("City").fill("Hamburg")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Request sample").click()
    assert "from 1 to 5,000" in page.locator("#quantity_g-error").inner_text()
    screenshot(page, "samples-1-too-many-grams-1280")
    page.get_by_label("Grams").fill("250")
    page.get_by_role("button", name="Request sample").click()
    number = re.search(r"S-\d{4}-\d{5}", page.locator("h1").inner_text())[0]
    assert "With our sales team" in page.locator("body").inner_text()
    screenshot(page, "samples-2-requested-1280")
    assert axe_violations(page) == []

    sales = staff_signed_in(new_page, live_server, "sam@shop.example")
    sales.get_by_role("link", name="Samples").click()
    assert number in sales.locator("table.sample-queue").inner_text()
    sales.get_by_role("link", name=number).click()
    assert "20 × LEU-USP-1KG" in sales.locator("table.sample-lots").inner_text()
    sales.get_by_label("Lot", exact=True).select_option("USP-2601")
    sales.get_by_label("Send it from").select_option("LEU-USP-1KG")
    sales.get_by_label("Units (from stock only)").fill("1")
    sales.get_by_role("button", name="Ship sample").click()
    assert "The carrier's tracking reference is required." in sales.locator("#tracking_reference-error").inner_text()
    screenshot(sales, "samples-3-ship-form-error-1280")
    sales.get_by_label("Tracking reference").fill("1Z999AA10123456784")
    sales.get_by_role("button", name="Ship sample").click()
    assert f"Sample {number} shipped from lot USP-2601" in sales.locator("body").inner_text()
    screenshot(sales, "samples-4-shipped-1280")
    assert axe_violations(sales) == []

    page.goto(f"{live_server}/account/samples/{number}")
    facts = page.locator("dl.facts").inner_text()
    assert "USP-2601" in facts and "1Z999AA10123456784" in facts
    screenshot(page, "samples-5-buyer-shipped-1280")
    phone = new_page(PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/account/samples")
    assert number in phone.content() and overflow(phone) == 0
    screenshot(phone, "samples-6-list-390")

    quality = staff_signed_in(new_page, live_server, "quinn@shop.example")
    quality.goto(f"{live_server}/staff/trace/lot/USP-2601")
    listed = quality.locator("table.lot-samples").inner_text()
    assert number in listed and "Acme Nutrition" in listed and "anna@acme.example" in listed and "250 g" in listed
    screenshot(quality, "samples-7-lot-trace-1280")
    assert axe_violations(quality) == []
