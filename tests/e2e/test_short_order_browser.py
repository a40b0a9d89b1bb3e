"""In chromium: a short order's notes say what is missing now. The buyer's order page, after a partial refill, names the
units still missing (not the shortage the recall left), and says nothing once nothing is; the packing slip names
cancelled and unallocated units instead of pointing at an attention note that was cleared; and the packing slip
printed on A4 portrait keeps every column (the "Picked" ticks) and its notes on the paper. Screenshots."""
from __future__ import annotations

import re
from io import BytesIO

import pytest
from pypdf import PdfReader

from shop.ordering import shortages
from shop.platform.extensions import db
from tests.support.browser import DESKTOP, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_lot, make_staff, recall_leaving_short
from tests.support.staff import ADDRESS

pytestmark = pytest.mark.browser
DRUM, BAG = "LEU-USP-25KG", "LEU-USP-1KG"
# A4 portrait at CSS pixels (96 per inch), less the browser's default print margins of about 10 mm a side.
A4_PRINTABLE = {"width": 718, "height": 1047}


def _buyer(new_page, live_server):
    page = new_page(DESKTOP)
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("buyer@northwind.example")
    page.get_by_label("Password", exact=True).fill("correct horse")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def _text(locator) -> str:
    return re.sub(r"\s+", " ", locator.inner_text())


def test_the_buyers_shortage_note_says_what_is_still_missing_and_vanishes_when_nothing_is(live_server, new_page,
                                                                                          product):
    from shop import ordering

    customer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    make_lot(product, "L-BAD", {DRUM: 6}, expires_in_days=400)
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 6}], ADDRESS)
    db.session.commit()
    recall_leaving_short("L-BAD", "Foreign particles")
    make_lot(product, "L-FEW", {DRUM: 2}, expires_in_days=500)
    shortages.fill_short_order(order.number)  # a partial refill: 2 of the 6 units
    db.session.commit()
    number = order.number

    page = _buyer(new_page, live_server)
    page.goto(live_server + f"/orders/{number}")
    note = page.locator(".shortage-note")
    assert _text(note) == ("Not all of this order is allocated yet: L-Leucine USP, 25 kg (LEU-USP-25KG) misses 4 of "
                           "6 units. We allocate them as soon as a lot is released, or contact you.")
    assert "short by 6" not in _text(page.locator("main"))
    screenshot(page, "short-order-buyer-partly-refilled-1280")

    make_lot(product, "L-MORE", {DRUM: 4}, expires_in_days=600)
    shortages.fill_short_order(number)
    db.session.commit()
    page.reload()
    assert page.locator(".shortage-note").count() == 0
    main = _text(page.locator("main"))
    assert "misses" not in main and "short by" not in main and "not allocated yet" not in main
    screenshot(page, "short-order-buyer-refilled-1280")


def test_the_staff_attention_box_says_what_is_still_missing_after_a_partial_refill(live_server, new_page, product):
    from shop import ordering

    customer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    make_staff("fulfilment")
    make_lot(product, "L-BAD", {DRUM: 6}, expires_in_days=400)
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 6}], ADDRESS)
    db.session.commit()
    recall_leaving_short("L-BAD", "Foreign particles")  # the recall's note: short by 6 of 6 units
    make_lot(product, "L-FEW", {DRUM: 2}, expires_in_days=500)
    shortages.fill_short_order(order.number)  # a partial refill: 2 of the 6 units
    db.session.commit()

    page = staff_signed_in(new_page, live_server)
    page.goto(live_server + f"/staff/orders/{order.number}")
    box = page.get_by_role("alert").filter(has_text="Needs attention")
    assert _text(box) == ("Needs attention Short since lot L-BAD was recalled: L-Leucine USP, 25 kg (LEU-USP-25KG) "
                          "misses 4 of 6 units.")
    assert "short by 6" not in _text(page.locator("main"))
    screenshot(page, "short-order-staff-partly-refilled-1280")


def test_the_packing_slip_names_cancelled_units_and_fits_a4_portrait_with_its_picked_column(live_server, new_page,
                                                                                           product):
    from shop import ordering

    customer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    make_staff("fulfilment")
    make_lot(product, "L-BAD", {DRUM: 4}, expires_in_days=400)
    make_lot(product, "L-OK-2026-0417-A", {BAG: 12}, expires_in_days=600)
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 4}, {"sku": BAG, "quantity": 3}],
                                 {**ADDRESS, "line2": "Tor 4, Rampe 12 (Anlieferung Montag bis Freitag 7-15 Uhr)"},
                                 purchase_order="PO-2026-000417-NORTHWIND-NUTRITION")
    db.session.commit()
    recall_leaving_short("L-BAD", "Foreign particles")  # the drums' only lot: the order is flagged
    db.session.commit()
    shortages.cancel_short_units(order.number)  # the drums cannot be supplied: the flag is cleared
    db.session.commit()
    number = order.number

    page = staff_signed_in(new_page, live_server)
    page.goto(live_server + f"/staff/orders/{number}/packing-slip")
    slip = _text(page.locator("table.slip-lines"))
    assert "attention note" not in slip
    assert "4 units cancelled: they could not be supplied. Nothing to pack." in slip
    assert "L-OK-2026-0417-A" in slip
    screenshot(page, "packing-slip-cancelled-line-1280")

    page.set_viewport_size(A4_PRINTABLE)
    page.emulate_media(media="print")
    screenshot(page, "packing-slip-print-a4")
    fits = page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      const picked = [...document.querySelectorAll('table.slip-lines th')].find(th => th.innerText === 'Picked');
      const scrollers = [...document.querySelectorAll('.table-scroll')];
      return {picked: picked.getBoundingClientRect().right <= width + 0.5,
              page: document.documentElement.scrollWidth <= width,
              clipped: scrollers.filter(s => s.scrollWidth > s.clientWidth + 0.5).length};
    }""")
    assert fits == {"picked": True, "page": True, "clipped": 0}

    printed = PdfReader(BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(printed.pages) == 1
    text = re.sub(r"\s+", " ", printed.pages[0].extract_text())
    for expected in ("Picked", "Nothing to pack.", "Each pack must carry the lot number printed above", number):
        assert expected in text, (expected, text)
