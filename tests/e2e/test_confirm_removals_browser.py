"""Issue 21 item 14 in Debian's chromium: a company admin revokes an API key and removes a member, each after a
page that asks to confirm; screenshots as screenshots/confirm-*.png."""
from __future__ import annotations

import pytest

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, axe_violations, overflow, screenshot
from tests.support.factories import make_customer

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"


def _submit(page, control) -> None:
    with page.expect_navigation():
        control.click()


def test_revoking_a_key_and_removing_a_member_ask_to_confirm_first(live_server, new_page):
    admin = make_customer("admin@acme.example", "Acme Nutrition", PASSWORD)
    accounts.create_api_key(admin, "ERP integration (SAP)", "buyer")
    bob = companies.invite_member(admin, "bob@acme.example", "buyer")
    db.session.commit()
    db.session.remove()

    page = new_page(DESKTOP)
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("admin@acme.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    _submit(page, page.get_by_role("button", name="Sign in"))

    page.goto(live_server + "/account/api-keys")
    _submit(page, page.get_by_role("link", name="Revoke ERP integration (SAP)…"))
    assert page.get_by_role("heading", name="Revoke API key ERP integration (SAP)?").is_visible()
    screenshot(page, "confirm-revoke-key-1280")
    assert axe_violations(page) == []
    _submit(page, page.get_by_role("link", name="Keep the key"))  # changes nothing
    assert page.get_by_role("link", name="Revoke ERP integration (SAP)…").is_visible()
    _submit(page, page.get_by_role("link", name="Revoke ERP integration (SAP)…"))
    _submit(page, page.get_by_role("button", name="Yes, revoke ERP integration (SAP)"))
    assert page.get_by_text("The key is revoked").is_visible()
    screenshot(page, "confirm-key-revoked-1280")

    page.set_viewport_size(PHONE)
    page.goto(live_server + "/account/members")
    _submit(page, page.get_by_role("link", name=f"Remove {bob.email}…"))
    assert page.get_by_role("heading", name=f"Remove {bob.email} from Acme Nutrition?").is_visible()
    screenshot(page, "confirm-remove-member-390")
    assert overflow(page) == 0
    assert axe_violations(page) == []
    _submit(page, page.get_by_role("button", name=f"Yes, remove {bob.email}"))
    assert page.get_by_text("The member is removed").is_visible()
    assert page.get_by_role("link", name=f"Remove {bob.email}…").count() == 0
    screenshot(page, "confirm-member-removed-390")
