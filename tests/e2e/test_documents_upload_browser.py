"""Issue 28 in Debian's chromium: a quality user uploads a Kosher certificate on the staff Documents page and sees it
listed as current; a fake PDF (a page with a script, named .pdf) is refused beside the file field; the product page
then shows the certificate with its PDF. Screenshots as screenshots/docs-upload-*.png."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, axe_violations, overflow, screenshot, staff_signed_in
from tests.support.documents import FAKE_PDF, pdf_bytes
from tests.support.factories import make_staff

pytestmark = pytest.mark.browser


def _fill(page, *, version: str, file: str) -> None:
    page.get_by_label("Product").select_option(label="L-Leucine USP (USP)")
    page.get_by_label("Kind of document").select_option(label="Kosher certificate")
    page.get_by_label("Title").fill("Kosher certificate (OU)")
    page.get_by_label("Version").fill(version)
    page.get_by_label("Issued on").fill((date.today() - timedelta(days=20)).isoformat())
    page.get_by_label("Valid until").fill((date.today() + timedelta(days=345)).isoformat())
    page.get_by_label("PDF file").set_input_files(file)


def test_quality_uploads_a_kosher_certificate_a_fake_pdf_is_refused_and_the_product_page_shows_it(
        live_server, new_page, product, tmp_path):
    make_staff("quality")
    db.session.remove()
    certificate = tmp_path / "kosher-certificate.pdf"
    certificate.write_bytes(pdf_bytes("Kosher certificate 2026-1"))
    fake = tmp_path / "kosher-renewal.pdf"
    fake.write_bytes(FAKE_PDF)

    page = staff_signed_in(new_page, live_server, "quality@shop.example", DESKTOP)
    page.get_by_role("link", name="Documents").click()
    assert page.locator("h1").inner_text() == "Documents"
    screenshot(page, "docs-upload-1-empty-1280")
    _fill(page, version="2026-1", file=str(certificate))
    page.get_by_role("button", name="Upload document").click()
    assert page.get_by_text("Kosher certificate version 2026-1 of L-Leucine USP is stored.").is_visible()
    row = page.locator("#documents-l-leucine-usp tbody tr").first
    assert "current" in row.inner_text() and "2026-1" in row.inner_text()
    screenshot(page, "docs-upload-2-listed-1280")
    assert axe_violations(page) == []

    _fill(page, version="2026-2", file=str(fake))
    page.get_by_role("button", name="Upload document").click()
    error = page.locator("#file-error")
    assert "This file is not a PDF" in error.inner_text()
    assert page.get_by_label("PDF file").get_attribute("aria-describedby") == "file-error"
    assert page.get_by_role("alert").get_by_text("The document was not stored.").is_visible()
    assert page.locator("#documents-l-leucine-usp tbody tr").count() == 1  # nothing stored
    screenshot(page, "docs-upload-3-fake-refused-1280")
    assert axe_violations(page) == []

    phone = staff_signed_in(new_page, live_server, "quality@shop.example", PHONE)
    phone.goto(live_server + "/staff/documents")
    assert overflow(phone) == 0
    screenshot(phone, "docs-upload-4-listed-390")

    shop = new_page(DESKTOP)
    shop.goto(f"{live_server}/products/{product.slug}")
    documents = shop.locator("table.documents")
    assert "Kosher certificate (OU)" in documents.inner_text()
    with shop.expect_download() as download:
        shop.get_by_role("link", name="PDF of the Kosher certificate, version 2026-1").click()
    assert download.value.suggested_filename == "l-leucine-usp-kosher-2026-1.pdf"
    assert Path(download.value.path()).read_bytes() == certificate.read_bytes()
    shop.locator("#documents").scroll_into_view_if_needed()
    screenshot(shop, "docs-upload-5-product-page-1280")
    assert axe_violations(shop) == []
    phone_shop = new_page(PHONE)
    phone_shop.goto(f"{live_server}/products/{product.slug}")
    assert overflow(phone_shop) == 0
    screenshot(phone_shop, "docs-upload-6-product-page-390")
