"""In chromium: an order awaiting approval that a recall left short. The staff page's "Needs attention" box says what
it misses (not "nothing is missing now") and offers what works while it waits; the approvals page shows the
shortage before the approver decides. Screenshots."""
from __future__ import annotations

import re

import pytest

from shop import ordering
from shop.accounts import companies
from shop.platform.extensions import db
from tests.support.browser import DESKTOP, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_lot, make_staff, recall_leaving_short
from tests.support.staff import ADDRESS

pytestmark = pytest.mark.browser
DRUM = "LEU-USP-25KG"
PASSWORD = "a long unusual passphrase"
MISSES = "Short since lot L-APPR was recalled: L-Leucine USP, 25 kg (LEU-USP-25KG) misses 2 of 3 units."


def _text(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text()).strip()


def test_staff_and_the_approver_see_what_a_short_order_awaiting_approval_misses(live_server, new_page, product):
    make_lot(product, "L-APPR", {DRUM: 5}, expires_in_days=300)
    admin = make_customer("admin@northwind.example", "Northwind Nutrition GmbH")
    companies.set_terms(admin.company, approval_threshold="100")
    buyer = companies.invite_member(admin, "buyer@northwind.example", "buyer")
    boss = companies.invite_member(admin, "boss@northwind.example", "approver")
    for member in (buyer, boss):
        member.set_password(PASSWORD)
        member.joined_at = member.created_at
    make_staff("fulfilment")
    db.session.commit()
    order = ordering.place_order(buyer, [{"sku": DRUM, "quantity": 3}], ADDRESS)
    db.session.commit()
    make_lot(product, "L-COVER", {DRUM: 1}, expires_in_days=500)
    recall_leaving_short("L-APPR", "Supplier audit failed")
    db.session.commit()
    number = order.number

    staff = staff_signed_in(new_page, live_server)
    staff.goto(live_server + f"/staff/orders/{number}")
    box = _text(staff.get_by_role("alert").filter(has_text="Needs attention"))
    assert box == f"Needs attention {MISSES}"
    short = _text(staff.locator("#short"))
    assert "Allocate missing units" in short and "Or its company's approvers reject it" in short
    assert "cancel the whole order below" not in short
    screenshot(staff, "short-awaiting-approval-staff-1280")

    approver = new_page(DESKTOP)
    approver.goto(live_server + "/sign-in")
    approver.get_by_label("Email").fill("boss@northwind.example")
    approver.get_by_label("Password", exact=True).fill(PASSWORD)
    approver.get_by_role("button", name="Sign in").click()
    approver.wait_for_load_state()
    approver.goto(live_server + "/account/approvals")
    note = _text(approver.locator(".approval .shortage-note"))
    assert note.startswith(MISSES) and "If you approve it, it goes ahead short" in note
    screenshot(approver, "short-awaiting-approval-approver-1280")
