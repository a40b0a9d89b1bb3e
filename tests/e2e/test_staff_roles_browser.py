"""In chromium: an admin without the quality role is not offered the signatures; another admin ticks quality for
them on the Staff page (a check box per role), and then they release the lot and the CoA names the quality unit."""
from __future__ import annotations

import pytest

from shop.platform.extensions import db
from shop.quality import release
from tests.support.browser import PHONE, axe_violations, overflow, screenshot, staff_signed_in
from tests.support.factories import good_results, make_lot, make_staff

pytestmark = pytest.mark.browser


def test_an_admin_gives_another_admin_the_quality_role_with_a_check_box_and_then_they_sign(live_server, new_page,
                                                                                         product):
    make_staff("admin", email="admin@shop.example")
    make_staff("admin", email="lead@shop.example")
    make_staff("warehouse", email="dock@shop.example")
    lot = make_lot(product, "USP-2801", {"LEU-USP-25KG": 6}, status="quarantine")
    release.record_results(lot, good_results(product))  # by the laboratory system
    db.session.commit()

    lead = staff_signed_in(new_page, live_server, "lead@shop.example")
    lead.goto(live_server + "/staff/batches/USP-2801")
    assert lead.get_by_role("button", name="Sign and release lot").count() == 0
    assert ("Releasing or rejecting lot USP-2801 is signed by the quality unit: it needs the quality role, and you "
            "hold admin.") in lead.locator(".alert").inner_text()
    screenshot(lead, "staff-batch-not-a-signer")

    admin = staff_signed_in(new_page, live_server, "admin@shop.example")
    admin.get_by_role("link", name="Staff", exact=True).click()
    roles = admin.get_by_role("group", name="Roles of lead@shop.example")
    assert [roles.get_by_label(r).is_checked() for r in ("admin", "warehouse", "quality", "fulfilment")] == [
        True, False, False, False]
    roles.get_by_label("quality").check()
    admin.get_by_role("button", name="Save roles of lead@shop.example").click()
    assert "lead@shop.example now holds admin, quality." in admin.locator(".flashes").inner_text()
    roles = admin.get_by_role("group", name="Roles of lead@shop.example")
    assert roles.get_by_label("quality").is_checked() and roles.get_by_label("admin").is_checked()
    assert axe_violations(admin) == [] and overflow(admin) == 0
    screenshot(admin, "staff-staff-users-roles-1280")

    # No role at all is refused beside the boxes, and nothing changes.
    dock = admin.get_by_role("group", name="Roles of dock@shop.example")
    dock.get_by_label("warehouse").uncheck()
    admin.get_by_role("button", name="Save roles of dock@shop.example").click()
    assert "Tick at least one role for dock@shop.example." in admin.get_by_role(
        "group", name="Roles of dock@shop.example").inner_text()

    phone = staff_signed_in(new_page, live_server, "admin@shop.example", PHONE)
    phone.goto(live_server + "/staff/staff-users")
    assert overflow(phone) == 0
    screenshot(phone, "staff-staff-users-roles-390")

    lead.goto(live_server + "/staff/batches/USP-2801")
    lead.get_by_label("I release lot USP-2801 as meeting its specification.").check()
    lead.get_by_label("Your password, to sign").first.fill("staff password")
    lead.get_by_role("button", name="Sign and release lot").click()
    assert "Lot USP-2801 released" in lead.locator(".flashes").inner_text()
    lead.goto(live_server + "/coa/USP-2801")
    assert "Released by lead@shop.example, quality unit," in lead.locator("main").inner_text()
