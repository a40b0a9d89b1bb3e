"""In chromium: a lot with a retest date reads "Retest" on the product page (desktop and phone), the packing slip and
the staff pages; the dashboard marks a lot with less than the default shelf life as short-dated. Screenshots."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from shop.inventory import lots as inventory
from shop.inventory.models import DateKind
from shop.platform.extensions import db
from shop.quality import release
from tests.support.browser import DESKTOP, PHONE, overflow, screenshot, staff_signed_in
from tests.support.factories import good_results, make_customer, make_lot, make_staff, releaser, signed
from tests.support.staff import place

pytestmark = pytest.mark.browser


# Dates read when used, not at import: a suite that runs past midnight must not expect yesterday's.
def retest_on() -> date:
    return date.today() + timedelta(days=420)


def test_a_retest_lot_reads_retest_wherever_its_date_is_shown(live_server, new_page, product):
    batch = inventory.receive_batch(product.slug, "FD-2504", date.today() - timedelta(days=20), retest_on(),
                                    {"LEU-USP-25KG": 10}, date_kind=DateKind.RETEST)
    release.record_results(batch, good_results(product))
    release.release_batch(batch, signed(releaser(), "release", "FD-2504"))
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 4}, expires_in_days=700)
    make_lot(product, "USP-2412", {"LEU-USP-1KG": 12}, expires_in_days=40)
    make_staff("fulfilment")
    order = place(make_customer("buyer@northwind.example", "Northwind Nutrition GmbH"), "LEU-USP-25KG", 3)
    db.session.commit()
    dated = f"Retest {retest_on().isoformat()}"

    shop = new_page(DESKTOP)
    shop.goto(live_server + "/products/l-leucine-usp")
    row = shop.locator("table.lots tr", has_text="FD-2504")
    assert f"{dated} (due in 420 days)" in row.inner_text()
    assert "Expiry " in shop.locator("table.lots tr", has_text="USP-2501").inner_text()
    screenshot(shop, "lot-dates-product-1280")
    shop.set_viewport_size(PHONE)
    assert overflow(shop) == 0
    cell = row.locator("td", has_text=dated)
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"Expiry / retest"'
    screenshot(shop, "lot-dates-product-390")

    staff = staff_signed_in(new_page, live_server, "fulfilment@shop.example")
    staff.goto(live_server + f"/staff/orders/{order.number}")
    assert dated in staff.locator("table").first.inner_text()
    screenshot(staff, "lot-dates-staff-order-1280")
    staff.goto(live_server + f"/staff/orders/{order.number}/packing-slip")
    slip = staff.locator("table.slip-lines")
    assert "Expiry / retest" in slip.locator("thead").inner_text() and dated in slip.inner_text()
    screenshot(staff, "lot-dates-packing-slip-1280")
    staff.goto(live_server + "/staff/")
    short = staff.locator("table.stock-table tr", has_text="USP-2412")
    assert "short-dated" in short.inner_text()
    assert staff.locator("table.stock-table tr", has_text="FD-2504").inner_text().count(dated) == 1
    screenshot(staff, "lot-dates-dashboard-1280")
