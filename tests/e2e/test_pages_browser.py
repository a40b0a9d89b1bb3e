"""Every storefront page in chromium at a phone's 390 px and a desktop's 1280 px: screenshots into
screenshots/, no page wider than its screen, no serious or critical axe-core accessibility violation, and the
forms filled in with the keyboard alone.

One browser for the run and one page per audience, resized between the two widths instead of opened twice: a
walk through some thirty pages at two widths fits in about a minute. Every finding of every page is collected
before the test fails, so one run shows all that is wrong.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.demo import DEMO_CUSTOMER
from shop.platform.extensions import db
from tests.support.factories import make_lot
from tests.support.page_sweep import Findings, sign_in, submit
from tests.support.storefront import registration_link

pytestmark = pytest.mark.browser


@pytest.mark.slow
def test_every_storefront_page_fits_both_widths_and_passes_axe(live_server, new_page, shop):
    findings, page = Findings(), new_page()
    for name, path, status in (
        ("catalog", "/", 200), ("product", "/products/l-leucine-usp", 200),
        ("product-feed", "/products/l-leucine-feed", 200), ("coa", "/coa/USP-2501", 200),
        ("coa-recalled", "/coa/EP-2509", 200), ("sign-in", "/sign-in", 200), ("contact", "/contact", 200),
        ("terms", "/terms", 200), ("privacy", "/privacy", 200), ("imprint", "/imprint", 200),
        ("problems", "/problems/", 200), ("problem", "/problems/insufficient-stock", 200),
        ("api-docs", "/api/v1/docs", 200), ("not-found", "/no-such-page", 404),
        ("password-reset", "/password-reset", 200),
    ):
        findings.visit(page, live_server, "storefront", name, path, status)

    page.goto(live_server + "/register")
    submit(page, page.get_by_role("button", name="Send me the link"))  # empty: every field's message at once
    findings.check(page, "storefront", "register-errors")
    page.get_by_label("Company").fill("Sweep Nutrition")
    page.get_by_label("Email").fill("sweep@nutrition.example")
    submit(page, page.get_by_role("button", name="Send me the link"))
    findings.check(page, "storefront", "register-sent")
    page.goto(live_server + registration_link("sweep@nutrition.example"))
    submit(page, page.get_by_role("button", name="Open account"))  # no password: its messages
    findings.check(page, "storefront", "open-account-errors")

    sign_in(page, live_server, "/sign-in", DEMO_CUSTOMER[0])
    page.goto(live_server + f"/orders/{shop['shipped']}")
    submit(page, page.get_by_role("button", name="Order again"))
    page.goto(live_server + "/products/l-leucine-feed")
    page.get_by_label("Quantity (units)").nth(1).fill("9")  # the 500 kg big bag: more than is left
    submit(page, page.get_by_role("button", name=re.compile(r"^Add to cart\W+500 kg")))
    findings.check(page, "storefront", "cart")
    page.goto(live_server + "/checkout")
    findings.check(page, "storefront", "checkout")
    page.get_by_label("Recipient or company").fill("")
    submit(page, page.get_by_role("button", name="Place order"))  # the address error and the short line together
    findings.check(page, "storefront", "checkout-refused")
    for name, path in (("orders", "/orders"), ("order", f"/orders/{shop['pending']}"),
                       ("order-short", f"/orders/{shop['short']}"),
                       ("confirmation", f"/orders/{shop['pending']}/confirmation"),
                       ("cancel", f"/orders/{shop['pending']}/cancel"), ("password", "/account/password"),
                       ("webhooks", "/account/webhooks"),
                       ("account", "/account"), ("members", "/account/members"), ("api-keys", "/account/api-keys"),
                       ("approvals", "/account/approvals")):
        findings.visit(page, live_server, "storefront", name, path)
    assert not findings.problems, "\n".join(findings.problems)


def _tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user moves through a page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_new_buyer_registers_and_orders_with_the_keyboard_alone(live_server, new_page, product):
    from shop.ordering.models import Order

    make_lot(product, "USP-2501", {"LEU-USP-25KG": 10})
    db.session.commit()
    page = new_page()
    page.goto(live_server + "/register")
    _tab_to(page, "#company")
    for text in ("Keyboard Nutrition Ltd", "buyer@keyboard.example"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # on the button that sends the link
    assert "A link to open your account is on its way to buyer@keyboard.example" in page.inner_text("main")
    page.goto(live_server + registration_link("buyer@keyboard.example"))  # the link in the e-mail
    _tab_to(page, "#password")  # the company's name is filled in already
    for text in ("a long password", "a long password"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # on Open account
    assert "Keyboard Nutrition Ltd" in page.get_by_role("navigation", name="Main").inner_text()

    page.goto(live_server + "/products/l-leucine-usp")
    _tab_to(page, "#qty-LEU-USP-25KG")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, "a[href='/checkout']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, "#name")
    for text in ("Keyboard Nutrition Ltd", "Dock 4", "", "20457", "Hamburg"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.type("Germany")  # the country list: typing a name selects it
    page.keyboard.press("Tab")  # to the purchase-order field, where Enter sends the form
    page.keyboard.type("PO-KEYS")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "is placed" in page.locator("h1").inner_text()
    order = db.session.scalar(select(Order))
    assert (order.ship_country, order.ship_city, order.purchase_order) == ("DE", "Hamburg", "PO-KEYS")
    assert [line.quantity for line in order.lines] == [2]
    db.session.rollback()
