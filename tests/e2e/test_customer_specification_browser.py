"""Issue 27 in Debian's chromium: a company admin tightens the assay limit of a grade, sees the product page count
only the lots that meet it, orders, and finds the order drawn from the conforming lot, whose CoA page says it meets
the company's specification (and the other lot's says it does not). Screenshots as screenshots/custspec-*.png."""
from __future__ import annotations

import re

import pytest

from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, axe_violations, buyer_signed_in, overflow, screenshot
from tests.support.factories import good_results, make_customer, make_lot

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"
DRUM = "LEU-USP-25KG"


@pytest.fixture
def app(make_app):
    """The served app with CSRF on, as in production."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.remove()


def _drums(page) -> str:
    return page.locator(f"section.pack[aria-labelledby='pack-{DRUM}'] .availability").inner_text()


def test_a_buyer_tightens_the_assay_sees_availability_change_orders_and_reads_meets_your_specification(
        live_server, new_page, product):
    results = good_results(product)
    assay = next(name for name in results if name.startswith("Assay"))
    make_lot(product, "USP-LOOSE", {DRUM: 20}, expires_in_days=300, results={**results, assay: "98.7"})
    make_lot(product, "USP-TIGHT", {DRUM: 5}, expires_in_days=500, results={**results, assay: "99.6"})
    make_customer("anna@acme.example", "Acme Nutrition", PASSWORD)
    db.session.remove()

    page = buyer_signed_in(new_page, live_server, "anna@acme.example", PASSWORD, DESKTOP)

    page.goto(f"{live_server}/products/{product.slug}")
    assert _drums(page).startswith("25 in stock")
    screenshot(page, "custspec-1-product-before-1280")

    page.goto(f"{live_server}/account/specifications/{product.slug}")
    page.get_by_label(f"{assay}: your minimum").fill("99,0")  # a decimal comma is refused, never guessed
    page.get_by_role("button", name="Save specification").click()
    assert "decimal" in page.locator(".has-error").first.inner_text()
    screenshot(page, "custspec-2-refused-1280")
    page.get_by_label(f"{assay}: your minimum").fill("99.0")
    page.get_by_role("button", name="Save specification").click()
    assert page.get_by_text(f"Your specification of {product.name} is saved").is_visible()
    assert page.get_by_label(f"{assay}: your minimum").input_value() == "99"
    screenshot(page, "custspec-3-saved-1280")
    assert axe_violations(page) == []

    page.goto(f"{live_server}/products/{product.slug}")
    assert _drums(page).startswith("5 in stock")
    assert "1 lot in stock does not meet it" in page.get_by_role("note").inner_text()
    screenshot(page, "custspec-4-product-after-1280")

    page.get_by_label("Quantity (units)").nth(1).fill("3")  # the 25 kg pack, listed after 1 kg
    page.get_by_role("button", name=re.compile(r"^Add to cart\W+25 kg")).click()
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Recipient or company").fill("Acme Nutrition")
    page.get_by_label("Address line 1").fill("1 Harbour Road")
    page.get_by_label("Postal code").fill("20457")
    page.get_by_label("City").fill("Hamburg")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Place order").click()
    assert re.search(r"LS-\d{6}-[0-9A-Z]{5}", page.locator("h1").inner_text())
    assert "USP-TIGHT" in page.content() and "USP-LOOSE" not in page.content()
    screenshot(page, "custspec-5-order-1280")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/coa/usp-tight")
    assert page.get_by_role("status").filter(has_text="Meets your specification").is_visible()
    screenshot(page, "custspec-6-coa-meets-390")
    assert overflow(page) == 0
    assert axe_violations(page) == []
    page.goto(f"{live_server}/coa/USP-LOOSE")
    assert page.get_by_role("status").filter(has_text="Does not meet your specification").is_visible()
    screenshot(page, "custspec-7-coa-does-not-meet-390")
