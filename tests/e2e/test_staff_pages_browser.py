"""Every staff page in chromium at both widths, as test_pages_browser.py walks the storefront's (same checks, same
shop): a file of its own so that the suite's two processes walk the two audiences side by side."""
from __future__ import annotations

import pytest

from tests.support.page_sweep import Findings, sign_in, submit

pytestmark = pytest.mark.browser


@pytest.mark.slow
def test_every_staff_page_fits_both_widths_and_passes_axe(live_server, new_page, shop):
    findings, page = Findings(), new_page()
    findings.visit(page, live_server, "staff", "sign-in", "/staff/login")
    sign_in(page, live_server, "/staff/login", "admin@leucine.example")
    numbers = shop
    for name, path in (
        ("dashboard", "/staff/"), ("batches", "/staff/batches"), ("batch-quarantine", "/staff/batches/USP-2611"),
        ("batch-released", "/staff/batches/USP-2501"), ("receive", "/staff/batches/receive"),
        ("receive-lot", "/staff/batches/receive?product=l-leucine-usp"),
        ("adjust", f"/staff/stock/{numbers['stock']}/adjust"), ("ledger", "/staff/ledger"),
        ("orders", "/staff/orders"), ("shortages", "/staff/orders/short"),
        ("order", f"/staff/orders/{numbers['pending']}"),
        ("order-attention", f"/staff/orders/{numbers['short']}"),
        ("packing-slip", f"/staff/orders/{numbers['confirmed']}/packing-slip"),
        ("recall", "/staff/batches/EP-2509/recall"), ("trace", "/staff/trace"),
        ("trace-lot", "/staff/trace/lot/EP-2503"), ("trace-order", f"/staff/trace/order/{numbers['short']}"),
        ("audit", "/staff/audit"), ("customers", "/staff/customers"), ("password", "/staff/password"),
        ("events", "/staff/events"),
        ("companies", "/staff/companies"), ("company", f"/staff/companies/{numbers['company']}"),
        ("staff-users", "/staff/staff-users"),
    ):
        findings.visit(page, live_server, "staff", name, path)
    findings.visit(page, live_server, "staff", "not-found", "/staff/batches/NO-SUCH-LOT", 404)

    page.goto(live_server + "/staff/batches/receive?product=l-leucine-usp")
    submit(page, page.get_by_role("button", name="Receive lot"))  # empty: every field's message at once
    findings.check(page, "staff", "receive-errors")
    page.goto(live_server + f"/staff/orders/{numbers['pending']}")
    page.get_by_label("Reason for cancelling (optional)").fill("Customer asked by phone")
    submit(page, page.get_by_role("button", name="Cancel order…"))
    findings.check(page, "staff", "cancel")
    assert not findings.problems, "\n".join(findings.problems)
