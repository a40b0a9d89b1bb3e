"""Issue 28's complaints in Debian's chromium: a buyer reports a problem from an order line with a photo (a fake
PDF first, refused beside the files), quality investigates it, sees it with the lot, and closes it signed; the buyer
reads the resolution. Screenshots as screenshots/complaints-*.png."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw

from shop.platform.extensions import db
from tests.support.browser import DESKTOP, PHONE, axe_violations, buyer_signed_in, overflow, screenshot, staff_signed_in
from tests.support.complaints import shipped_order
from tests.support.factories import make_customer, make_lot, make_staff

pytestmark = pytest.mark.browser
PASSWORD = "amber falcon quartz 77"


def _photo() -> bytes:
    """A small real PNG: a drum with a torn liner, drawn."""
    image = Image.new("RGB", (160, 120), (235, 235, 230))
    drawing = ImageDraw.Draw(image)
    drawing.rectangle((40, 20, 120, 110), fill=(30, 80, 160))
    drawing.line((50, 40, 110, 90), fill=(250, 250, 250), width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_buyer_files_a_complaint_with_a_photo_and_quality_closes_it_signed(live_server, new_page, product):
    make_lot(product, "USP-2601", {"LEU-USP-25KG": 6}, expires_in_days=300)
    make_lot(product, "USP-2602", {"LEU-USP-25KG": 10}, expires_in_days=600)
    buyer = make_customer("anna@acme.example", "Acme Nutrition", PASSWORD)
    order = shipped_order(buyer)
    make_staff("quality", "quinn@shop.example")
    db.session.remove()

    page = buyer_signed_in(new_page, live_server, "anna@acme.example", PASSWORD, DESKTOP)
    page.goto(f"{live_server}/orders/{order}")
    page.get_by_role("link", name="Report a problem").click()
    assert page.locator("h1").inner_text() == "Report a problem with LEU-USP-25KG"
    page.get_by_label("What kind of problem").select_option("quality")
    page.get_by_label("Which lot").select_option("USP-2601")
    page.get_by_label("What is wrong").fill("Two drums of lot USP-2601 arrived with torn inner liners.")
    page.get_by_label("Photos or PDFs").set_input_files(
        [{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": b"<html><script>1</script></html>"}])
    page.get_by_role("button", name="File complaint").click()
    assert "certificate.pdf: This file is not a PDF" in page.locator("#attachments-error").inner_text()
    screenshot(page, "complaints-1-fake-pdf-refused-1280")
    page.get_by_label("Photos or PDFs").set_input_files(
        [{"name": "torn-liner.png", "mimeType": "image/png", "buffer": _photo()}])
    page.get_by_role("button", name="File complaint").click()
    number = re.search(r"C-\d{4}-\d{5}", page.locator("h1").inner_text())[0]
    assert "is filed" in page.locator("body").inner_text() and "torn-liner.png" in page.content()
    screenshot(page, "complaints-2-filed-1280")
    assert axe_violations(page) == []

    quality = staff_signed_in(new_page, live_server, "quinn@shop.example")
    quality.get_by_role("link", name="Complaints").click()
    assert number in quality.locator("table.complaint-queue").inner_text()
    screenshot(quality, "complaints-3-queue-1280")
    quality.get_by_role("link", name=number).click()
    assert "USP-2601" in quality.locator("dl.facts").first.inner_text()
    with quality.expect_download() as download:
        quality.get_by_role("link", name="torn-liner.png").click()
    assert download.value.suggested_filename == "torn-liner.png"
    quality.get_by_label("Root cause").fill("Liners torn on a damaged pallet at our warehouse.")
    quality.get_by_label("Corrective action").fill("Two replacement drums shipped on a new order.")
    quality.get_by_label("Preventive action").fill("Pallets are inspected before picking.")
    quality.get_by_role("button", name="Save investigation").click()
    assert "it is investigating" in quality.locator("body").inner_text()
    screenshot(quality, "complaints-4-investigating-1280")

    quality.get_by_role("textbox", name=re.compile("^Resolution")).fill(
        "Two drums replaced; pallets are now inspected before picking.")
    quality.get_by_label(re.compile(rf"I close complaint {number}")).check()
    quality.get_by_label("Your password, to sign").fill("not my password")
    quality.get_by_role("button", name="Sign and close complaint").click()
    assert "That is not your password" in quality.locator("#password-error").inner_text()
    screenshot(quality, "complaints-5-wrong-password-1280")
    quality.get_by_label(re.compile(rf"I close complaint {number}")).check()
    quality.get_by_label("Your password, to sign").fill("staff password")
    quality.get_by_role("button", name="Sign and close complaint").click()
    record = quality.locator(".signature-record").inner_text()
    assert "quinn@shop.example" in record and f"I close complaint {number}" in record
    screenshot(quality, "complaints-6-closed-signed-1280")
    assert axe_violations(quality) == []

    page.goto(f"{live_server}/account/complaints/{number}")
    assert "Two drums replaced" in page.locator(".resolution").inner_text()
    screenshot(page, "complaints-7-buyer-resolution-1280")
    phone = new_page(PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server}/account/complaints")
    assert number in phone.content() and overflow(phone) == 0
    screenshot(phone, "complaints-8-list-390")
