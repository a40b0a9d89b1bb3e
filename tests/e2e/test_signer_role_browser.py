"""In chromium: the staff lot page's signature list names the role each signature was signed in, as the CoA does
("quality unit", or "admin (not the quality unit)" for a release an admin signed before the rule); screenshot as
screenshots/staff-signer-role-*.png."""
from __future__ import annotations

import pytest

from shop.platform.extensions import db
from tests.support.browser import PHONE, axe_violations, overflow, screenshot, staff_signed_in
from tests.support.factories import make_lot, make_staff, signed_recall

pytestmark = pytest.mark.browser


def test_the_staff_lot_page_names_each_signer_s_role(live_server, new_page, product):
    lot = make_lot(product, "USP-2790", {"LEU-USP-25KG": 4})
    admin = make_staff("admin", email="boss@shop.example")
    release = lot.signatures[-1]  # as migration 0018 leaves a release an admin signed before the rule
    release.staff_id, release.signer_name, release.signer_email, release.signer_role = (
        admin.id, "Boss", admin.email, "admin")
    signed_recall("USP-2790", "Supplier audit failed")
    make_staff("warehouse", email="dock@shop.example")
    db.session.commit()
    db.session.remove()

    page = staff_signed_in(new_page, live_server, "dock@shop.example", PHONE)
    page.goto(live_server + "/staff/batches/USP-2790")
    signatures = page.locator("ul.signatures").inner_text()
    assert "Boss (boss@shop.example), admin (not the quality unit)," in signatures
    assert "Rita Release (qa-release@shop.example), quality unit," in signatures
    page.locator("ul.signatures").scroll_into_view_if_needed()
    screenshot(page, "staff-signer-role-390")
    assert overflow(page) == 0
    assert axe_violations(page) == []
