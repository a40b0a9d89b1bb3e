"""Issue 28 in Debian's chromium: a buyer's confirmed order page lists the SDS and certificates current when the
order was confirmed (not the version uploaded after), and each link downloads that version's PDF; staff see the same
list on the order and the certificate near its end on the dashboard. Screenshots as screenshots/docs-order-*.png."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from shop import ordering
from shop.platform.extensions import db
from tests.support.api import ADDRESS
from tests.support.browser import DESKTOP, PHONE, axe_violations, buyer_signed_in, overflow, screenshot, staff_signed_in
from tests.support.documents import add_document
from tests.support.factories import make_customer, make_lot, make_staff

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"


def _confirmed_order(product) -> str:
    """An order confirmed with SDS 4.2 and Kosher 2026 current; Kosher 2026-2 arrives after it was confirmed."""
    today = date.today()
    make_lot(product, "USP-2601", {"LEU-USP-25KG": 10})
    add_document(product, kind="sds", version="4.2", title="Safety data sheet", valid_until=None,
                 issued_on=today - timedelta(days=200), today=today)
    add_document(product, kind="kosher", version="2026", title="Kosher certificate 2026",
                 issued_on=today - timedelta(days=320), valid_until=today + timedelta(days=40), today=today)
    customer = make_customer("anna@acme.example", "Acme Nutrition", PASSWORD)
    number = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 2}], ADDRESS).number
    ordering.confirm_order(number)
    db.session.commit()
    add_document(product, kind="kosher", version="2026-2", title="Kosher certificate 2026 (renewed)",
                 issued_on=today, valid_until=today + timedelta(days=365), today=today)
    return number


def test_a_buyers_confirmed_order_lists_its_documents_and_each_link_downloads_the_pdf(live_server, new_page,
                                                                                      product):
    number = _confirmed_order(product)
    db.session.remove()

    page = buyer_signed_in(new_page, live_server, "anna@acme.example", PASSWORD, DESKTOP)

    page.goto(f"{live_server}/orders/{number}")
    section = page.locator("section.order-documents")
    rows = section.locator("tbody tr")
    assert rows.count() == 2
    assert "Safety data sheet (SDS)" in rows.nth(0).inner_text() and "4.2" in rows.nth(0).inner_text()
    kosher = rows.nth(1).inner_text()
    assert "Kosher certificate" in kosher and "2026" in kosher and "2026-2" not in kosher
    section.scroll_into_view_if_needed()
    screenshot(page, "docs-order-1-buyer-order-1280")
    assert axe_violations(page) == []

    for link, name in ((section.get_by_role("link", name="Safety data sheet (SDS)"), "l-leucine-usp-sds-4.2.pdf"),
                       (section.get_by_role("link", name="Kosher certificate"), "l-leucine-usp-kosher-2026.pdf")):
        with page.expect_download() as caught:
            link.click()
        download = caught.value
        assert download.suggested_filename == name
        with open(download.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"

    phone = new_page(PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/orders/{number}")
    assert phone.locator("section.order-documents tbody tr").count() == 2
    assert overflow(phone) == 0
    screenshot(phone, "docs-order-2-buyer-order-390")


def test_staff_see_the_recorded_documents_on_the_order_and_the_certificate_near_its_end_on_the_dashboard(
        live_server, new_page, product):
    number = _confirmed_order(product)
    today = date.today()
    add_document(product, kind="halal", version="HC-31", title="Halal certificate",
                 issued_on=today - timedelta(days=335), valid_until=today + timedelta(days=30), today=today)
    make_staff("fulfilment")
    db.session.remove()

    page = staff_signed_in(new_page, live_server, viewport=DESKTOP)
    page.goto(f"{live_server}/staff/orders/{number}")
    table = page.locator("#h-documents + .table-scroll")
    assert "Kosher certificate" in table.inner_text() and "2026-2" not in table.inner_text()
    screenshot(page, "docs-order-3-staff-order-1280")

    page.goto(f"{live_server}/staff/")
    flags = page.locator("section[aria-labelledby='h-certificates'] tbody tr")
    assert flags.count() == 1  # the renewed Kosher certificate is current: only the Halal one is near its end
    assert "Halal certificate" in flags.inner_text() and "30" in flags.inner_text()
    # Fulfilment is told that quality uploads the new version: no link to a page that would answer 403.
    assert flags.get_by_role("link").count() == 0 and "quality uploads" in flags.inner_text()
    page.locator("#h-certificates").scroll_into_view_if_needed()
    screenshot(page, "docs-order-4-dashboard-flags-1280")
