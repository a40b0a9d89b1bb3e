"""Issue 24 in Debian's chromium: a buyer on net terms reads the order's VAT and what credit is left at checkout,
is warned before placing an order beyond it, and is told why nothing was placed when placing it anyway."""
from __future__ import annotations

import re

import pytest

from shop.accounts import companies
from shop.platform.extensions import db
from tests.support.browser import axe_violations, buyer_signed_in, screenshot
from tests.support.factories import make_customer, make_lot

pytestmark = pytest.mark.browser


def test_checkout_shows_vat_and_warns_before_an_order_beyond_the_credit(live_server, new_page, product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 6}, expires_in_days=800)
    buyer = make_customer("buyer@acme.example", "Acme Nutrition")
    companies.set_terms(buyer.company, "net_30", "4000")
    db.session.commit()
    page = buyer_signed_in(new_page, live_server, "buyer@acme.example", "correct horse")
    page.goto(live_server + "/products/l-leucine-usp")
    page.get_by_label("Quantity (units)").nth(1).fill("2")
    page.get_by_role("button", name=re.compile(r"^Add to cart\W+25 kg")).click()
    page.get_by_role("link", name="Check out").click()

    assert "VAT 19.00 %" in page.locator("#vat-line").inner_text()
    warning = page.locator("#credit-warning")
    assert warning.is_visible()
    assert "Its total, 4,641.00 EUR, is more than the 4,000.00 EUR of credit" in warning.inner_text()
    warning_box, button_box = warning.bounding_box(), page.get_by_role("button", name="Place order").bounding_box()
    assert warning_box["y"] < button_box["y"]  # read before placing
    assert axe_violations(page) == []
    screenshot(page, "buyer-checkout-vat-and-credit-warning")

    page.get_by_label("Recipient or company").fill("Acme Nutrition")
    page.get_by_label("Address line 1").fill("Hafenstrasse 1")
    page.get_by_label("City").fill("Hamburg")
    page.get_by_label("Postal code").fill("20457")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Place order").click()
    assert "No order was placed. This order (4,641.00 EUR) exceeds your company's available credit" in \
        page.locator("main").inner_text()
    screenshot(page, "buyer-checkout-refused-beyond-credit")
