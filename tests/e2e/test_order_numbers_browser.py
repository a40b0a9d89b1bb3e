"""In chromium: an order number typed in lower case opens the buyer's order page and the staff's, as a lot number
typed in any case opens its certificate. Screenshots."""
from __future__ import annotations

import pytest

from tests.support.browser import DESKTOP, buyer_signed_in, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_lot, make_staff
from tests.support.staff import place

pytestmark = pytest.mark.browser


def test_an_order_number_typed_in_lower_case_opens_the_order(live_server, new_page, product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 4})
    make_staff("fulfilment")
    number = place(make_customer(), "LEU-USP-25KG", 2).number
    typed = number.lower()

    buyer = buyer_signed_in(new_page, live_server, "buyer@example.com", "correct horse", DESKTOP)
    answer = buyer.goto(live_server + f"/orders/{typed}")
    assert answer.status == 200
    assert buyer.locator("h1").inner_text() == f"Order {number}"
    assert "USP-2501" in buyer.locator("main").inner_text()
    screenshot(buyer, "order-number-any-case-storefront-1280")

    staff = staff_signed_in(new_page, live_server)
    answer = staff.goto(live_server + f"/staff/orders/{typed}")
    assert answer.status == 200
    assert staff.locator("h1").inner_text().startswith(f"Order {number}")
    screenshot(staff, "order-number-any-case-staff-1280")
