"""Issue 21 items 8 and 9 in Debian's chromium: a buyer opens an order that the company's ERP key placed and sees
the key named as its placer (and who approved it); on the Webhooks page the buyer sees the company's endpoint
and its deliveries, without the buttons that only a company admin may use. Screenshots as
screenshots/placer-*.png."""
from __future__ import annotations

import pytest

from shop import ordering
from shop.accounts import companies
from shop.accounts import people as accounts
from shop.accounts.models import ApiKey
from shop.api.auth import ApiCustomer
from shop.events import webhooks
from shop.ordering import approvals
from shop.platform.extensions import db
from tests.support.api import ADDRESS
from tests.support.browser import DESKTOP, PHONE, axe_violations, overflow, screenshot
from tests.support.factories import make_customer, make_lot, make_member

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"
SAP = "ERP integration (SAP)"


@pytest.fixture
def app(make_app):
    """The served app (CSRF on); endpoints may be local http addresses (nothing is delivered here)."""
    app = make_app(WTF_CSRF_ENABLED=True, WEBHOOK_ALLOW_INSECURE=True)
    with app.app_context():
        yield app
        db.session.remove()


def _sign_in(page, live_server: str, email: str) -> None:
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_a_buyer_sees_the_key_that_placed_an_order_and_reads_the_webhooks_without_managing(live_server, new_page,
                                                                                          product):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 10}, expires_in_days=400)
    anna = make_customer("anna@acme.example", "Acme Nutrition", PASSWORD)
    companies.set_terms(anna.company, "net_30", "", "5000")
    accounts.create_api_key(anna, SAP, "buyer")
    make_member(anna, "clerk@acme.example", "buyer", PASSWORD)
    bob = make_member(anna, "bob@acme.example", "approver", PASSWORD)  # four eyes: not the key's maker
    webhooks.create_endpoint(anna, "http://127.0.0.1:9/hooks/leucine", ["*"], "ERP")
    db.session.commit()
    key = db.session.query(ApiKey).filter(ApiKey.name == SAP).one()
    erp = ApiCustomer(anna.id, anna.company_id, key.role, key.id, key.actor_name)
    order = ordering.place_order(erp, [{"sku": "LEU-USP-25KG", "quantity": 3}], ADDRESS)  # waits: above 5,000
    approvals.approve(order.number, bob, "Budget OK")
    db.session.commit()
    number = order.number
    db.session.remove()

    page = new_page(DESKTOP)
    _sign_in(page, live_server, "clerk@acme.example")
    page.goto(f"{live_server}/orders/{number}")
    assert page.locator("dl.facts div", has_text="Placed by").locator("dd").inner_text() == SAP
    assert page.locator(".history").get_by_text("by bob@acme.example — Approved. Budget OK").is_visible()
    assert page.locator(".history").get_by_text(f"by {SAP} — Order placed").is_visible()
    screenshot(page, "placer-order-1280")
    assert axe_violations(page) == []

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/account/webhooks")
    assert page.get_by_text("http://127.0.0.1:9/hooks/leucine").is_visible()
    assert page.get_by_role("button", name="Delete endpoint").count() == 0
    assert page.get_by_role("button", name="Add endpoint").count() == 0
    assert page.get_by_text("Only a company admin adds, tests or deletes endpoints").is_visible()
    screenshot(page, "placer-webhooks-buyer-390")
    assert overflow(page) == 0
    assert axe_violations(page) == []
