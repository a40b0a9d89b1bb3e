"""Issue 21 item 16 in Debian's chromium: a buyer of a Swedish company checks out from the company's address, is
told before placing that the order waits for approval, reads "Sweden" on the order, and orders it again without
being asked to check lines that nothing flags."""
from __future__ import annotations

import re

import pytest

from shop.accounts import companies
from shop.accounts.models import MemberRole
from shop.platform.extensions import db
from tests.support.browser import axe_violations, buyer_signed_in, screenshot
from tests.support.factories import make_customer, make_lot

pytestmark = pytest.mark.browser


def _swedish_buyer():
    """A buyer (not an approver) of a company billed in Stockholm whose orders above 2,000.00 EUR need approval."""
    buyer = make_customer("buyer@nordic.example", "Nordic Sports AB")
    buyer.role = MemberRole.BUYER
    company = buyer.company
    company.billing_line1, company.billing_city = "Sveavägen 44", "Stockholm"
    company.billing_postal_code, company.billing_country = "111 34", "SE"
    companies.set_terms(company, "prepaid", "", "2000")
    db.session.commit()
    return buyer


def test_buyer_checks_out_from_the_company_address_told_it_waits_and_reads_country_names(live_server, new_page,
                                                                                          product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 6}, expires_in_days=800)
    _swedish_buyer()
    page = buyer_signed_in(new_page, live_server, "buyer@nordic.example", "correct horse")
    page.goto(live_server + "/products/l-leucine-usp")
    page.get_by_label("Quantity (units)").nth(1).fill("2")
    page.get_by_role("button", name=re.compile(r"^Add to cart\W+25 kg")).click()
    page.get_by_role("link", name="Check out").click()

    assert page.get_by_label("Recipient or company").input_value() == "Nordic Sports AB"
    assert page.get_by_label("Address line 1").input_value() == "Sveavägen 44"
    assert page.get_by_label("City").input_value() == "Stockholm"
    assert page.get_by_label("Postal code").input_value() == "111 34"
    assert page.get_by_label("Country").input_value() == "SE"
    notice = page.locator("#needs-approval")
    assert notice.is_visible()
    assert ("This order will wait for approval: its total, 4,641.00 EUR with VAT, is above your company's approval "
            "threshold of 2,000.00 EUR.") in notice.inner_text()
    notice_box, button_box = notice.bounding_box(), page.get_by_role("button", name="Place order").bounding_box()
    assert notice_box["y"] < button_box["y"]  # read before placing
    assert axe_violations(page) == []
    screenshot(page, "buyer-checkout-prefilled-needs-approval")

    page.get_by_role("button", name="Place order").click()
    ship_to = page.locator("dt", has_text="Ship to").locator("xpath=following-sibling::dd[1]").inner_text()
    assert ship_to.splitlines()[-1] == "Sweden"
    screenshot(page, "buyer-order-ships-to-sweden")

    page.get_by_role("button", name="Order again").click()
    assert page.locator("h1").inner_text() == "Your cart"
    message = page.get_by_text(re.compile(r"The 1 line of order LS-\S+ is in your cart")).inner_text()
    assert message.endswith("at today's prices.") and "flagged" not in page.content()
    screenshot(page, "buyer-order-again-nothing-flagged")

    page.goto(live_server + "/account")
    assert "111 34 Stockholm, Sweden" in page.locator("dd", has_text="Sveavägen").inner_text()
    screenshot(page, "buyer-company-billed-in-sweden")
