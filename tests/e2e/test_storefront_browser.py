"""The storefront in Debian's chromium: a new customer orders two drums; a shortfall; the CoA PDF.

Every page's screenshots at both widths, with the layout and accessibility checks: test_pages_browser.py.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shop.ordering.models import Order
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_lot
from tests.support.storefront import registration_link

pytestmark = pytest.mark.browser


def _orders() -> int:
    count = db.session.scalar(select(func.count()).select_from(Order))
    db.session.rollback()  # release SQLite's lock at once: the served app shares the file
    return count


def _fill_address(page):
    page.get_by_label("Recipient or company").fill("Fresh Brand Ltd")
    page.get_by_label("Address line 1").fill("12 Mill Lane")
    page.get_by_label("Postal code").fill("M1 2AB")
    page.get_by_label("City").fill("Manchester")
    page.get_by_label("Country").select_option("GB")


def test_new_customer_registers_and_orders_two_drums(live_server, new_page, product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 3}, expires_in_days=400)
    make_lot(product, "USP-2507", {"LEU-USP-25KG": 10}, expires_in_days=800)
    page = new_page()
    page.goto(live_server + "/")
    page.get_by_role("link", name="Register").click()
    page.get_by_label("Company").fill("Fresh Brand Ltd")
    page.get_by_label("Email").fill("buyer@fresh.example")
    page.get_by_role("button", name="Send me the link").click()
    assert page.locator("h1").inner_text() == "Check your e-mail"
    page.goto(live_server + registration_link("buyer@fresh.example"))  # the link in the e-mail
    assert page.get_by_label("Company").input_value() == "Fresh Brand Ltd"
    page.get_by_label("New password (at least").fill("a long password")
    page.get_by_label("Repeat the password").fill("a long password")
    page.get_by_role("button", name="Open account").click()
    assert page.get_by_text("Fresh Brand Ltd").first.is_visible()

    page.get_by_role("link", name="L-Leucine USP", exact=True).click()
    assert page.locator("h1").inner_text() == "L-Leucine USP"
    page.get_by_label("Quantity (units)").nth(1).fill("2")  # the 25 kg pack, listed after 1 kg
    page.get_by_role("button", name=re.compile(r"^Add to cart\W+25 kg")).click()
    assert page.locator("h1").inner_text() == "Your cart"
    assert "3,900.00 EUR" in page.content()
    page.get_by_role("link", name="Check out").click()
    _fill_address(page)
    page.get_by_role("button", name="Place order").click()

    heading = page.locator("h1").inner_text()
    number = re.search(r"LS-\d{6}-[0-9A-Z]{5}", heading).group(0)
    assert "Lot USP-2501" in page.content()  # first expired, first out
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My orders").click()
    row = page.get_by_role("row").filter(has_text=number)
    assert "USP-2501" in row.inner_text() and "Pending" in row.inner_text()
    assert _orders() == 1


def test_asking_for_more_than_available_shows_the_shortfall_and_orders_nothing(live_server, new_page, product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 3})
    make_customer()
    page = new_page()
    page.goto(live_server + "/products/l-leucine-usp")
    page.get_by_label("Quantity (units)").nth(1).fill("5")
    page.get_by_role("button", name=re.compile(r"^Add to cart\W+25 kg")).click()
    assert page.get_by_text("Only 3 available now").is_visible()
    page.get_by_role("link", name="Check out").click()
    # Signed out: sign in, come back to the cart, go on.
    page.get_by_label("Email").fill("buyer@example.com")
    page.get_by_label("Password").fill("correct horse")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Your cart"
    page.get_by_role("link", name="Check out").click()
    _fill_address(page)
    page.get_by_role("button", name="Place order").click()
    alert = page.get_by_role("alert").filter(has_text="No order was placed")
    assert "LEU-USP-25KG: Only 3 available now: you asked for 5." in alert.inner_text()
    assert _orders() == 0


def test_coa_pdf_downloads_as_a_pdf(live_server, new_page, product, tmp_path):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 3})
    page = new_page()
    page.goto(live_server + "/products/l-leucine-usp")
    page.get_by_role("link", name="CoA USP-2501", exact=True).click()
    assert page.locator("h1").inner_text() == "Certificate of Analysis: lot USP-2501"
    with page.expect_download() as info:
        page.get_by_role("link", name="Download PDF").click()
    download = info.value
    assert download.suggested_filename == "CoA-USP-2501.pdf"
    path = tmp_path / "coa.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
