"""A company in Debian's chromium: its admin invites a buyer and an approver, the buyer orders above the approval
threshold, the approver approves; screenshots of each step as screenshots/company-*.png."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from shop.accounts import companies, member_mail
from shop.ordering.models import Order, OrderStatus
from shop.platform.extensions import db
from tests.support.browser import screenshot
from tests.support.factories import make_customer, make_lot

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"


@pytest.fixture
def mailbox(monkeypatch):
    """The links of the e-mails sent, by recipient (the served app runs in this process)."""
    links: dict[str, str] = {}

    def send(to, subject, template, **context):
        links[to] = context.get("link", "")

    monkeypatch.setattr(member_mail, "_send", send)
    return links


def _submit(page, button) -> None:
    with page.expect_navigation():
        button.click()


def _invite(page, email: str, role: str, mailbox) -> str:
    page.get_by_label("Email of the person to invite").fill(email)
    page.get_by_label("Role", exact=True).select_option(role)
    _submit(page, page.get_by_role("button", name="Send invitation"))
    return mailbox[email]


def _join(new_page, live_server: str, link: str):
    """Open the e-mail's link (absolute from PUBLIC_BASE_URL) on the test's own server."""
    page = new_page()
    page.goto(live_server + urlsplit(link).path)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    _submit(page, page.get_by_role("button", name="Set password and join"))
    return page


def test_admin_invites_a_buyer_who_orders_above_the_threshold_and_an_approver_approves(live_server, new_page,
                                                                                        product, mailbox):
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 10}, expires_in_days=400)
    admin = make_customer("admin@acme.example", "Acme Nutrition", PASSWORD)
    companies.set_terms(admin.company, "net_30", "", "5000")
    db.session.commit()

    page = new_page()
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("admin@acme.example")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    _submit(page, page.get_by_role("button", name="Sign in"))
    page.get_by_role("link", name="Acme Nutrition").click()
    page.get_by_role("link", name="Members").click()
    buyer_link = _invite(page, "purchaser@acme.example", "buyer", mailbox)
    approver_link = _invite(page, "manager@acme.example", "approver", mailbox)
    assert page.get_by_text("purchaser@acme.example").count() and page.get_by_text("invited").count()
    screenshot(page, "company-1-admin-invites")

    buyer = _join(new_page, live_server, buyer_link)
    buyer.goto(live_server + "/products/l-leucine-usp")
    buyer.get_by_label("Quantity (units)").nth(1).fill("3")  # 3 drums: 5,850.00 EUR, above 5,000.00
    _submit(buyer, buyer.get_by_role("button", name=re.compile(r"^Add to cart\W+25 kg")))
    buyer.goto(live_server + "/checkout")
    buyer.get_by_label("Recipient or company").fill("Acme Nutrition, goods in")
    buyer.get_by_label("Address line 1").fill("Werkstraße 5")
    buyer.get_by_label("Postal code").fill("20095")
    buyer.get_by_label("City").fill("Hamburg")
    buyer.get_by_label("Country").select_option("DE")
    _submit(buyer, buyer.get_by_role("button", name="Place order"))
    number = db.session.scalar(select(Order.number))
    db.session.rollback()
    buyer.goto(live_server + f"/orders/{number}")
    assert "Awaiting approval" in buyer.locator("main").inner_text()
    screenshot(buyer, "company-2-buyer-order-awaits-approval")

    approver = _join(new_page, live_server, approver_link)
    approver.get_by_role("link", name="Acme Nutrition").click()
    approver.get_by_role("link", name="Approvals").click()
    assert number in approver.locator("main").inner_text()
    screenshot(approver, "company-3-approver-queue")
    approver.get_by_label("Note to the buyer (optional)").fill("Budget approved")
    _submit(approver, approver.get_by_role("button", name=f"Approve {number}"))
    assert f"Order {number} is approved" in approver.locator("main").inner_text()
    screenshot(approver, "company-4-approved")

    order = db.session.scalar(select(Order))
    assert order.status == OrderStatus.PENDING and order.customer.email == "purchaser@acme.example"
    db.session.rollback()
    buyer.goto(live_server + f"/orders/{number}")
    assert "Budget approved" in buyer.locator("main").inner_text()
    screenshot(buyer, "company-5-buyer-sees-approval")
