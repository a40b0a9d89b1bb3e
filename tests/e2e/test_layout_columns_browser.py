"""In chromium: what a person needs from a table is on the screen without scrolling sideways. The CoA entry hints
are whole at 1280 px; on a phone the CoA results and the webhook log's "Deliver again" are in view; the dashboard
shows a short-dated lot as such. Screenshots at both widths."""
from __future__ import annotations

import pytest

from shop.events import webhooks
from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, overflow, screenshot, staff_signed_in
from tests.support.events import Receiver, run_worker
from tests.support.factories import make_customer, make_lot, make_staff

pytestmark = pytest.mark.browser

# For each element matching the selector: its text, and how far it reaches past what can be seen of it without
# scrolling sideways (the screen, or the nearest box that clips or scrolls it), in CSS pixels.
_HIDDEN_PART = """(selector) => [...document.querySelectorAll(selector)].map(el => {
  let right = window.innerWidth;
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) {
      right = Math.min(right, p.getBoundingClientRect().right); }
  }
  const box = el.getBoundingClientRect();
  return {text: el.innerText.trim().slice(0, 60),
          hidden: Math.max(0, Math.round(box.right - right), el.scrollWidth - el.clientWidth)};
})"""


def hidden_parts(page, selector: str) -> list[str]:
    """The elements matching `selector` that are not wholly in view (cut off, or behind a sideways scroll)."""
    found = page.evaluate(_HIDDEN_PART, selector)
    assert found, f"nothing matches {selector}"
    return [f"{f['text']!r}: {f['hidden']} px out of view" for f in found if f["hidden"] > 0]


def test_coa_entry_hints_are_whole_at_1280_px(live_server, new_page, product):
    make_staff("quality")
    make_lot(product, "USP-2611", {"LEU-USP-25KG": 8}, status="quarantine")
    page = staff_signed_in(new_page, live_server, "quality@shop.example")
    page.goto(live_server + "/staff/batches/USP-2611")
    assert "below the limit of quantification" in page.locator("table.coa").inner_text()
    screenshot(page, "layout-coa-entry-1280")
    assert hidden_parts(page, "table.coa .hint") == []
    assert hidden_parts(page, "table.coa input, table.coa select") == []
    page.set_viewport_size(PHONE)
    screenshot(page, "layout-coa-entry-390")
    assert overflow(page) == 0
    # On a phone the fields to fill stay in view.
    assert hidden_parts(page, "table.coa input, table.coa select") == []


def test_coa_results_are_in_view_on_a_phone(live_server, new_page, product):
    make_staff("quality")
    make_lot(product, "USP-2501", {"LEU-USP-25KG": 8})
    page = staff_signed_in(new_page, live_server, "quality@shop.example", PHONE)
    page.goto(live_server + "/staff/batches/USP-2501")
    screenshot(page, "layout-staff-coa-390")
    assert overflow(page) == 0
    assert hidden_parts(page, "table.coa td:nth-child(4), table.coa td:nth-child(5)") == []  # recorded, verdict
    page.set_viewport_size(DESKTOP)
    screenshot(page, "layout-staff-coa-1280")
    assert hidden_parts(page, "table.coa td") == []

    page.goto(live_server + "/coa/USP-2501")
    screenshot(page, "layout-public-coa-1280")
    assert hidden_parts(page, "table.coa td") == []
    page.set_viewport_size(PHONE)
    screenshot(page, "layout-public-coa-390")
    assert overflow(page) == 0
    assert hidden_parts(page, "table.coa td") == []


@pytest.fixture
def app(make_app):
    """The served app (CSRF on), delivering webhooks to a local receiver."""
    app = make_app(WTF_CSRF_ENABLED=True, WEBHOOK_ALLOW_INSECURE=True)
    with app.app_context():
        yield app
        db.session.remove()


def test_deliver_again_is_in_view_on_a_phone(live_server, new_page, product):
    buyer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    with Receiver([503]) as receiver:
        endpoint = webhooks.create_endpoint(buyer, receiver.url, ["*"], "ERP integration (SAP)")
        db.session.commit()
        webhooks.send_test(buyer, endpoint.id)
        db.session.commit()
        run_worker(lambda: len(receiver.received) >= 1)
    db.session.remove()
    page = new_page(PHONE)
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("buyer@northwind.example")
    page.get_by_label("Password", exact=True).fill("correct horse")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/account/webhooks")
    assert page.get_by_role("button", name="Deliver again").count() == 1
    screenshot(page, "layout-webhooks-390")
    assert overflow(page) == 0
    assert hidden_parts(page, "form[action$='/redeliver'] button") == []
    page.set_viewport_size(DESKTOP)
    screenshot(page, "layout-webhooks-1280")
    assert hidden_parts(page, "form[action$='/redeliver'] button") == []
