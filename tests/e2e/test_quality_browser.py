"""In chromium: a quality user types '1,500' and is refused, a second quality user signs the release, the public CoA
shows the signature; after a signed recall the buyer's order page shows the recall notice. Screenshots of each."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from shop import ordering
from shop.catalog.models import Product, SpecTest, Variant
from shop.demo import EP_SPEC, in_spec_value
from shop.inventory import lots as inventory
from shop.platform.extensions import db
from tests.support.billing import ship_paid
from tests.support.browser import buyer_signed_in, screenshot, staff_signed_in
from tests.support.factories import make_customer, make_staff
from tests.support.staff import ADDRESS

pytestmark = pytest.mark.browser


def _ep_product() -> Product:
    product = Product(slug="l-leucine-ep", name="L-Leucine Ph. Eur.", grade="EP", cas_number="61-90-5",
                      formula="C6H13NO2", molecular_weight=Decimal("131.17"))
    for i, (name, lo, hi, unit, method) in enumerate(EP_SPEC):
        product.spec_tests.append(SpecTest(position=i, name=name, min_value=lo, max_value=hi, unit=unit, method=method))
    product.variants.append(Variant(sku="LEU-EP-25KG", pack_size_kg=Decimal(25), unit_price=Decimal("1890.00")))
    db.session.add(product)
    db.session.commit()
    return product


def _sign(page, statement: str, form_selector: str) -> None:
    form = page.locator(form_selector)
    form.get_by_label(statement).check()
    form.get_by_label("Your password, to sign").fill("staff password")


def test_refusal_two_person_release_signed_coa_and_a_recall_that_reaches_the_buyer(live_server, new_page):
    product = _ep_product()
    make_staff("quality", email="lab@shop.example").name = "Lena Lab"
    make_staff("quality", email="qp@shop.example").name = "Quentin Person"
    customer = make_customer("buyer@northwind.example", "Northwind Nutrition GmbH")
    inventory.receive_batch(product.slug, "EP-2612", date.today() - timedelta(days=10),
                            date.today() + timedelta(days=1000), {"LEU-EP-25KG": 20})
    values = [(t.name, t.qualitative, in_spec_value(t)) for t in product.spec_tests]
    db.session.commit()  # no open transaction: the server thread must be free to write to the SQLite file

    # The lab's quality user types the chloride result as '1,500' and checks before saving: refused.
    lab = staff_signed_in(new_page, live_server, "lab@shop.example")
    lab.goto(live_server + "/staff/batches/EP-2612")
    for name, qualitative, value in values:
        field = lab.get_by_label(name, exact=True)
        field.select_option(value) if qualitative else field.fill("1,500" if name == "Chlorides" else value)
    lab.get_by_role("button", name="Check results").click()
    error = lab.locator("tr", has_text="Chlorides").locator(".field-error")
    assert "'1,500' has a comma, which could be a thousands separator or a decimal comma" in error.inner_text()
    assert "Checked, not saved" in lab.locator("p.alert").inner_text()
    screenshot(lab, "quality-refuses-1500")
    # Saving it is refused the same way; with the value written as a plain number every test passes.
    lab.get_by_role("button", name="Save results").click()
    assert "'1,500' has a comma" in lab.locator("tr", has_text="Chlorides").locator(".field-error").inner_text()
    lab.get_by_label("Chlorides", exact=True).fill("150")
    lab.get_by_role("button", name="Save results").click()
    assert "9 results saved for lot EP-2612." in lab.locator(".flashes").inner_text()
    assert lab.locator("table.coa .badge-good").count() == 9
    # The same person may not release what they recorded.
    assert "another quality user must release this lot (two-person rule)" in lab.locator("main").inner_text()

    # A second quality user reviews and releases, signing with the password again.
    qp = staff_signed_in(new_page, live_server, "qp@shop.example")
    qp.goto(live_server + "/staff/batches/EP-2612")
    _sign(qp, "I release lot EP-2612 as meeting its specification.", "form[action$='/release']")
    qp.get_by_role("button", name="Sign and release lot").click()
    assert "Lot EP-2612 released" in qp.locator(".flashes").inner_text()
    assert "Quentin Person (qp@shop.example)" in qp.locator("ul.signatures").inner_text()
    screenshot(qp, "quality-second-person-release")

    # The public certificate carries the signature.
    coa = new_page()
    coa.goto(live_server + "/coa/ep-2612")
    signature = coa.locator("section.release-signature").inner_text()
    assert "Released by Quentin Person (qp@shop.example), quality unit, on " + date.today().isoformat() in signature
    assert "“I release lot EP-2612 as meeting its specification.”" in signature
    assert "150 ppm" in coa.locator("table.coa").inner_text()
    screenshot(coa, "quality-public-coa-signed")

    # A customer orders 4 drums and receives them.
    order = ordering.place_order(customer, [{"sku": "LEU-EP-25KG", "quantity": 4}], ADDRESS)
    number = order.number
    ordering.confirm_order(number)
    ship_paid(number, "DHL-JJD0099")
    db.session.commit()

    # Quality prepares the recall, reads what it will do, and signs it with a note for customers.
    qp.goto(live_server + "/staff/batches/EP-2612")
    qp.get_by_role("link", name="Prepare a recall of lot EP-2612").click()
    assert f"Northwind Nutrition GmbH · buyer@northwind.example: order {number}, 4 × LEU-EP-25KG" in \
        qp.locator("main").inner_text()
    qp.get_by_label("Internal reason (staff only, never published)").fill("OOS on stability: assay 97.9 %")
    qp.get_by_label("Note to customers").fill("Lot EP-2612 did not pass a stability test. Stop using it; we will "
                                              "replace it free of charge.")
    _sign(qp, "I recall lot EP-2612: it must no longer be sold or used.", "form[action$='/recall']")
    screenshot(qp, "quality-recall-confirm")
    qp.get_by_role("button", name="Sign and recall lot").click()
    assert "Lot EP-2612 recalled." in qp.locator(".flashes").inner_text()

    # The buyer sees the notice on the order page, and on My orders.
    buyer = buyer_signed_in(new_page, live_server, "buyer@northwind.example", "correct horse")
    buyer.goto(live_server + "/orders")
    assert "Recall notice: lot EP-2612" in buyer.locator("table.orders").inner_text()
    buyer.get_by_role("link", name=number).click()
    notice = buyer.locator(".notice").inner_text()
    assert "Recall of lot EP-2612. Lot EP-2612 did not pass a stability test." in notice
    assert "stability: assay" not in buyer.content()  # the internal reason is never published
    assert "recalled: do not use" in buyer.locator("table.order-lines").inner_text()
    screenshot(buyer, "quality-buyer-recall-notice")
