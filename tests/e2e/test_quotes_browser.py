"""Issue 26's quotes in Debian's chromium: a buyer requests a quote for the cart's drums, sales answer it with a
price and a hold, the buyer sees the held units and accepts the quote into an order at the quoted price.
Screenshots as screenshots/quotes-*.png."""
from __future__ import annotations

import re

import pytest

from shop.platform.extensions import db
from tests.support.browser import DESKTOP, axe_violations, buyer_signed_in, overflow, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_lot, make_staff

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"


def test_a_buyer_requests_a_quote_from_the_cart_sales_answer_with_a_hold_and_the_buyer_accepts(
        live_server, new_page, product):
    make_lot(product, "USP-2601", {"LEU-USP-25KG": 6}, expires_in_days=300)
    make_lot(product, "USP-2602", {"LEU-USP-25KG": 10}, expires_in_days=600)
    make_customer("anna@acme.example", "Acme Nutrition", PASSWORD)
    make_staff("sales", "sam@shop.example")
    db.session.remove()

    buyer = buyer_signed_in(new_page, live_server, "anna@acme.example", PASSWORD, DESKTOP)
    buyer.goto(f"{live_server}/products/l-leucine-usp")
    drums = buyer.locator("section[aria-labelledby='pack-LEU-USP-25KG']")
    drums.get_by_label("Quantity (units)").fill("8")
    drums.get_by_role("button", name=re.compile("Add to cart")).click()
    buyer.get_by_role("link", name=re.compile("^Cart")).click()
    buyer.get_by_role("link", name="Request a quote").click()
    assert buyer.locator("h1").inner_text() == "Request a quote"
    buyer.get_by_label("Minimum remaining shelf life in days (optional)").fill("200")
    buyer.get_by_label("Note to our sales team (optional)").fill("Eight drums for the April run, one lot if possible.")
    screenshot(buyer, "quotes-1-request-1280")
    assert axe_violations(buyer) == [] and overflow(buyer) == 0
    buyer.get_by_role("button", name="Request the quote").click()
    number = re.search(r"Q-\d{4}-\d{5}", buyer.locator("h1").inner_text())[0]
    assert "is requested" in buyer.locator("body").inner_text()
    screenshot(buyer, "quotes-2-requested-1280")

    sales = staff_signed_in(new_page, live_server, "sam@shop.example")
    sales.goto(f"{live_server}/staff/quotes")
    sales.get_by_role("link", name=number).click()
    sales.get_by_label("Unit price of LEU-USP-25KG").fill("1780.00")
    sales.get_by_label("Note to the buyer (optional)").fill("Held for you from lot USP-2601 and USP-2602.")
    sales.get_by_label(re.compile("Hold the stock")).check()
    screenshot(sales, "quotes-3-answer-form-1280")
    assert axe_violations(sales) == []
    sales.get_by_role("button", name="Answer").click()
    assert "Every unit is held" in sales.locator("body").inner_text()
    assert "8 of 8" in sales.locator("table.quote-lines").inner_text()
    screenshot(sales, "quotes-4-answered-staff-1280")

    buyer.goto(f"{live_server}/quotes/{number}")
    lines = buyer.locator("table.quote-lines").inner_text()
    assert "1,780.00" in lines and "14,240.00" in lines and "8 of 8" in lines
    screenshot(buyer, "quotes-5-answered-buyer-1280")
    assert axe_violations(buyer) == [] and overflow(buyer) == 0
    buyer.get_by_label("Recipient or company").fill("Acme Nutrition")
    buyer.get_by_label("Address line 1").fill("Hafenstrasse 1")
    buyer.get_by_label("Postal code").fill("20457")
    buyer.get_by_label("City").fill("Hamburg")
    buyer.get_by_label("Country").select_option("DE")
    buyer.get_by_label("Your purchase-order reference (optional)").fill("PO-APRIL-7")
    buyer.get_by_role("button", name="Accept and place the order").click()
    body = buyer.locator("body").inner_text()
    assert f"Quote {number} is accepted" in body
    order = re.search(r"LS-[0-9A-Z-]+", body)[0]
    screenshot(buyer, "quotes-6-accepted-order-1280")
    buyer.goto(f"{live_server}/orders/{order}")
    assert "1,780.00" in buyer.locator("body").inner_text()
    buyer.goto(f"{live_server}/quotes/{number}")
    assert "Accepted" in buyer.locator("body").inner_text()
    screenshot(buyer, "quotes-7-quote-accepted-1280")
