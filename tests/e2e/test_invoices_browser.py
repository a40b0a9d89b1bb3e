"""Issue 24's invoices in Debian's chromium: finance finds an overdue invoice, is refused a payment typed "1,500"
beside the field, records a partial payment, is refused a credit note of more units than invoiced, issues one of
a drum, and reads the ageing summary and the company's statement; the buyer sees the invoices, what is owed and
overdue, and downloads the PDF. Screenshots as screenshots/invoices-*.png."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shop.fulfilment import billing
from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, axe_violations, buyer_signed_in, overflow, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_lot, make_staff
from tests.support.invoicing import invoiced, on_net_terms

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"


def test_finance_records_a_payment_and_a_credit_note_and_the_buyer_sees_the_invoices(live_server, new_page, product):
    make_lot(product, "USP-2601", {"LEU-USP-25KG": 10}, expires_in_days=600)
    buyer = on_net_terms(make_customer("anna@acme.example", "Acme Nutrition", PASSWORD))
    overdue = invoiced(buyer, 3, billing.today() - timedelta(days=50))
    current = invoiced(buyer, 1)
    make_staff("finance", "fiona@shop.example")
    db.session.remove()

    finance = staff_signed_in(new_page, live_server, "fiona@shop.example")
    finance.get_by_role("link", name="Invoices").first.click()
    finance.get_by_label("Overdue only").check()
    finance.get_by_role("button", name="Filter invoices").click()
    listed = finance.locator("table.invoice-list").inner_text()
    assert overdue.number in listed and current.number not in listed
    screenshot(finance, "invoices-1-staff-overdue-1280")
    assert axe_violations(finance) == []

    finance.get_by_role("link", name=overdue.number).click()
    finance.get_by_label("Amount received").fill("1,500")
    finance.get_by_role("button", name="Record payment").click()
    assert "no thousands separator" in finance.locator("#amount-error").inner_text()
    screenshot(finance, "invoices-2-payment-refused-1280")
    assert axe_violations(finance) == []
    finance.get_by_label("Amount received").fill("1000.00")
    finance.get_by_label("Bank reference").fill("SEPA ACME 2026-11")
    finance.get_by_role("button", name="Record payment").click()
    assert f"Payment of 1,000.00 EUR recorded against {overdue.number}" in finance.locator("body").inner_text()

    finance.get_by_label(re.compile(r"^Units of line 1")).fill("4")
    finance.get_by_role("button", name="Issue credit note").click()
    assert "Only 3 units of line 1 are left" in finance.locator("#quantity_1-error").inner_text()
    screenshot(finance, "invoices-3-credit-note-refused-1280")
    finance.get_by_label(re.compile(r"^Units of line 1")).fill("1")
    finance.get_by_role("button", name="Issue credit note").click()
    heading = finance.locator("h1").inner_text()
    assert heading.startswith("Credit note CN-") and "corrects" not in heading
    assert overdue.number in finance.locator("dl.facts").inner_text()
    screenshot(finance, "invoices-4-credit-note-1280")
    assert axe_violations(finance) == []

    finance.get_by_role("link", name="Ageing").first.click()
    ageing = finance.locator("table.ageing").inner_text()
    assert "Acme Nutrition" in ageing and "1–30 days" in ageing
    screenshot(finance, "invoices-5-ageing-1280")
    assert axe_violations(finance) == []
    finance.get_by_role("link", name="Acme Nutrition").click()
    statement = finance.locator("table.statement").inner_text()
    assert overdue.number in statement and "SEPA ACME 2026-11" in statement
    screenshot(finance, "invoices-6-statement-1280")
    assert axe_violations(finance) == []

    page = buyer_signed_in(new_page, live_server, "anna@acme.example", PASSWORD, DESKTOP)
    page.get_by_role("link", name="Invoices").first.click()
    assert "Your company owes" in page.locator(".owed").inner_text() and "overdue" in page.locator(".owed").inner_text()
    table = page.locator("table.invoices").inner_text()
    assert overdue.number in table and current.number in table and "CN-" in table
    screenshot(page, "invoices-7-buyer-1280")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download {overdue.number} (PDF)").click()
    assert download.value.suggested_filename == f"{overdue.number}.pdf"
    phone = new_page(PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/invoices")
    assert overdue.number in phone.content() and overflow(phone) == 0
    screenshot(phone, "invoices-8-buyer-390")
