"""In chromium: a page of another origin cannot frame a signed-in staff page, and the strict CSP breaks no page."""
from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shop import ordering
from shop.platform.extensions import db
from tests.support.browser import screenshot, staff_signed_in
from tests.support.factories import make_customer, make_lot, make_staff
from tests.support.staff import ADDRESS

pytestmark = pytest.mark.browser


@pytest.fixture
def other_origin(tmp_path):
    """A second local web server (another port: another origin, the same site), serving files from tmp_path."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _order(product) -> str:
    make_lot(product, "L-FRAME", {"LEU-USP-25KG": 5})
    order = ordering.place_order(make_customer(), [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    make_staff("fulfilment")
    db.session.commit()  # no open transaction: the server thread must be free to write to the SQLite file
    return order.number


def test_a_page_of_another_origin_cannot_frame_the_staff_cancel_button(live_server, new_page, product,
                                                                      other_origin):
    number = _order(product)
    page = staff_signed_in(new_page, live_server)
    order_url = f"{live_server}/staff/orders/{number}"
    page.goto(order_url)
    assert page.get_by_role("button", name="Cancel order").is_visible()  # the page itself shows the button

    folder, origin = other_origin
    (folder / "prize.html").write_text(
        "<!doctype html><title>Win a prize</title><h1>Click the button to win a prize</h1>"
        f'<iframe id="victim" src="{order_url}" width="900" height="500"></iframe>')
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text))
    page.goto(f"{origin}/prize.html")
    page.wait_for_load_state("load")
    frame = page.locator("#victim").element_handle().content_frame()
    assert frame is not None
    framed = frame.content()
    screenshot(page, "security-framing-refused")
    assert "Cancel order" not in framed and number not in framed
    assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in refusals), refusals


def test_pages_show_under_the_strict_csp_without_a_single_violation(live_server, new_page, product):
    number = _order(product)
    violations: list[str] = []
    page = staff_signed_in(new_page, live_server)
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    for path in ("/staff/", f"/staff/orders/{number}", f"/staff/orders/{number}/packing-slip", "/",
                 "/products/l-leucine-usp", "/coa/L-FRAME", "/api/v1/docs"):
        page.goto(live_server + path)
        page.wait_for_load_state("load")
    # The packing slip's Print button is wired by print.js, a script of this site: the CSP lets it run.
    page.goto(f"{live_server}/staff/orders/{number}/packing-slip")
    assert page.get_by_role("button", name="Print packing slip").is_visible()
    page.goto(live_server + "/staff/")
    assert page.locator("svg rect.bar").count() > 0  # the dashboard chart is drawn (styled by staff.css)
    screenshot(page, "security-csp-dashboard")
    assert violations == []
