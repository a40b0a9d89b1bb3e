"""The walk of every page in chromium at a phone's and a desktop's width (tests/e2e/test_pages_browser.py for the
storefront, test_staff_pages_browser.py for the staff pages): the shop it walks, and the checks of each page."""
from __future__ import annotations

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


def submit(page, button) -> None:
    """Click a button that sends a form, and wait for the page it answers with."""
    with page.expect_navigation():
        button.click()


def sign_in(page, base: str, path: str, email: str) -> None:
    page.goto(base + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))
