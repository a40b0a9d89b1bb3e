"""Every storefront and staff page in chromium at a phone's 390 px and a desktop's 1280 px: screenshots into
screenshots/, no page wider than its screen, no serious or critical axe-core accessibility violation, and the
forms filled in with the keyboard alone.

One browser for the run and one page per audience, resized between the two widths instead of opened twice: a
walk through some thirty pages at two widths fits in about a minute. Every finding of every page is collected
before the test fails, so one run shows all that is wrong.
"""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from shop import ordering
from shop.accounts.models import Customer
from shop.catalog.models import Product, Variant
from shop.demo import DEMO_CUSTOMER, DEMO_PASSWORD, seed_demo
from shop.inventory.models import Stock
from shop.platform.extensions import db
from tests.support.billing import ship_paid
from tests.support.browser import DESKTOP, PHONE, axe_violations, overflow, screenshot, sticking_out, unreachable_by_tab
from tests.support.factories import make_lot, recall_leaving_short
from tests.support.staff import ADDRESS
from tests.support.storefront import registration_link

pytestmark = pytest.mark.browser

WIDTHS = (PHONE, DESKTOP)


@pytest.fixture
def shop(app):
    """The demo catalog with orders in every state a page shows: pending, confirmed, shipped, and one left
    short and flagged by a recall; a lot about to expire. Returns the order numbers and lots by role."""
    seed_demo()
    usp = db.session.scalar(select(Product).where(Product.slug == "l-leucine-usp"))
    make_lot(usp, "USP-2412", {"LEU-USP-1KG": 12}, expires_in_days=40)
    buyer = db.session.scalar(select(Customer).where(Customer.email == DEMO_CUSTOMER[0]))
    pending = ordering.place_order(buyer, [{"sku": "LEU-USP-25KG", "quantity": 4}, {"sku": "LEU-USP-1KG",
                                                                                     "quantity": 10}],
                                 ADDRESS, "PO-4711")
    confirmed = ordering.place_order(buyer, [{"sku": "LEU-FEED-500KG", "quantity": 2}], ADDRESS)
    ordering.confirm_order(confirmed.number)
    shipped = ordering.place_order(buyer, [{"sku": "LEU-EP-25KG", "quantity": 1}], ADDRESS)
    ordering.confirm_order(shipped.number)
    ship_paid(shipped.number, "DHL-JJD0003900071")
    short = ordering.place_order(buyer, [{"sku": "LEU-EP-25KG", "quantity": 40}], ADDRESS, "PO-4712", 200)
    db.session.commit()
    recall_leaving_short("EP-2509", "Foreign particles found in retained sample",
                  note="Do not use lot EP-2509: foreign particles were found in its retained sample.")
    # Since the shipped order: the 25 kg EP drum costs more, so "Order again" has a price change to flag.
    db.session.scalar(select(Variant).where(Variant.sku == "LEU-EP-25KG")).unit_price = Decimal("1940.00")
    db.session.commit()
    stock = db.session.scalar(select(Stock.id).join(Variant).where(Variant.sku == "LEU-USP-25KG").limit(1))
    numbers = {"pending": pending.number, "confirmed": confirmed.number, "shipped": shipped.number,
               "short": short.number, "stock": stock, "company": buyer.company_id}
    db.session.commit()  # no open transaction: the serving thread writes to the same SQLite file
    return numbers


# Each money amount in a table footer (subtotal, total): its right edge, and whether it fits on one line.
_FOOTER_AMOUNTS = """() => [...document.querySelectorAll('table.stack tfoot td.num')].map(cell => {
  const text = document.createRange();
  text.selectNodeContents(cell);
  const lineHeight = parseFloat(getComputedStyle(cell).lineHeight);
  return {right: Math.round(cell.getBoundingClientRect().right),
          oneLine: text.getBoundingClientRect().height < 1.6 * lineHeight};
})"""


def footer_amounts_line_up(page, label: str) -> list[str]:
    """Subtotal and total: each on one line ("EUR" not wrapped alone), their right edges aligned."""
    amounts = page.evaluate(_FOOTER_AMOUNTS)
    problems = [f"{label}: a footer amount wraps onto a second line" for a in amounts if not a["oneLine"]]
    if len({a["right"] for a in amounts}) > 1:
        problems.append(f"{label}: footer amounts end at different x: {[a['right'] for a in amounts]}")
    return problems


class Findings:
    """Every page's problems, collected so that one run reports them all."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def check(self, page, audience: str, name: str) -> None:
        """At each width: nothing wider than the screen, no blocking axe violation, money in table footers on
        one line and aligned, a screenshot; then (at the last width) every form control reachable with Tab."""
        for viewport in WIDTHS:
            page.set_viewport_size(viewport)
            width = viewport["width"]
            label = f"{audience}-{name}-{width}"
            self.problems.extend(footer_amounts_line_up(page, label))
            if (extra := overflow(page)) > 0:
                self.problems.append(f"{label}: {extra} px wider than the {width} px screen: "
                                     f"{', '.join(sticking_out(page))}")
            # Colours are the same at both widths, and contrast is axe's slowest rule: it runs at the first one.
            skip = ("color-contrast",) if viewport is not WIDTHS[0] else ()
            self.problems.extend(f"{label}: {v}" for v in axe_violations(page, skip))
            screenshot(page, label)
        if page.locator("form").count():
            self.problems.extend(f"{audience}-{name}: Tab never reaches '{control}'"
                                 for control in unreachable_by_tab(page))

    def visit(self, page, base: str, audience: str, name: str, path: str, status: int = 200) -> None:
        answer = page.goto(base + path)
        if answer.status != status:
            self.problems.append(f"{audience}-{name}: {path} answered {answer.status}, not {status}")
        self.check(page, audience, name)


def _submit(page, button) -> None:
    """Click a button that sends a form, and wait for the page it answers with."""
    with page.expect_navigation():
        button.click()


def _sign_in(page, base: str, path: str, email: str) -> None:
    page.goto(base + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    _submit(page, page.get_by_role("button", name="Sign in"))


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
    _submit(page, page.get_by_role("button", name="Send me the link"))  # empty: every field's message at once
    findings.check(page, "storefront", "register-errors")
    page.get_by_label("Company").fill("Sweep Nutrition")
    page.get_by_label("Email").fill("sweep@nutrition.example")
    _submit(page, page.get_by_role("button", name="Send me the link"))
    findings.check(page, "storefront", "register-sent")
    page.goto(live_server + registration_link("sweep@nutrition.example"))
    _submit(page, page.get_by_role("button", name="Open account"))  # no password: its messages
    findings.check(page, "storefront", "open-account-errors")

    _sign_in(page, live_server, "/sign-in", DEMO_CUSTOMER[0])
    page.goto(live_server + f"/orders/{shop['shipped']}")
    _submit(page, page.get_by_role("button", name="Order again"))
    page.goto(live_server + "/products/l-leucine-feed")
    page.get_by_label("Quantity (units)").nth(1).fill("9")  # the 500 kg big bag: more than is left
    _submit(page, page.get_by_role("button", name=re.compile(r"^Add to cart\W+500 kg")))
    findings.check(page, "storefront", "cart")
    page.goto(live_server + "/checkout")
    findings.check(page, "storefront", "checkout")
    page.get_by_label("Recipient or company").fill("")
    _submit(page, page.get_by_role("button", name="Place order"))  # the address error and the short line together
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
