"""Issue 21 item 16: what a buyer reads. Countries by name (not "SE") on order pages, the company page and
e-mail; e-mail counts units in good English and writes money as the site does (3,900.00 EUR); "Order again"
asks to check flagged lines only when a line is flagged; checkout starts from the company's address and says
before placing that the order will wait for an approver."""
from __future__ import annotations

import re
from decimal import Decimal

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from shop import ordering
from shop.accounts import companies
from shop.accounts.models import Customer, MemberRole
from shop.catalog.models import Variant
from shop.platform.countries import country_name
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_lot
from tests.support.mail import drain, outbox_mail
from tests.support.staff import sign_in as staff_sign_in
from tests.support.staff import text_of
from tests.support.storefront import sign_in

SWEDEN = {"name": "Nordic Sports AB", "line1": "Sveavägen 44", "city": "Stockholm", "postal_code": "111 34",
          "country": "SE"}
DRUM = "LEU-USP-25KG"


def _billing_in_sweden(customer: Customer) -> None:
    company = customer.company
    company.billing_line1, company.billing_city = "Sveavägen 44", "Stockholm"
    company.billing_postal_code, company.billing_country = "111 34", "SE"
    db.session.commit()


def _as_buyer(customer: Customer) -> Customer:
    """The same person as a plain buyer of the company (not its admin): a buyer's orders above the threshold
    wait for an approver."""
    customer.role = MemberRole.BUYER
    db.session.commit()
    return customer


@pytest.mark.usefixtures("staff_clients")
def test_order_pages_company_page_and_mail_name_the_country(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 5})
    _billing_in_sweden(_as_buyer(customer))
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 1}], SWEDEN)
    drain()
    (placed,) = [m for m in outbox_mail() if m.subject.endswith("received")]
    assert "Stockholm, Sweden" in placed.body and "Stockholm, Sweden" in placed.alternatives[0][0]

    sign_in(client)
    for path in (f"/orders/{order.number}", f"/orders/{order.number}/confirmation", "/account"):
        page = text_of(client.get(path).text)
        assert "Stockholm Sweden" in page or "Stockholm, Sweden" in page, path
        assert not re.search(r"\bSE\b", page), path
    staff = app.test_client()
    staff_sign_in(staff, "fulfilment")
    for path in (f"/staff/orders/{order.number}", f"/staff/orders/{order.number}/packing-slip"):
        assert "Stockholm Sweden" in text_of(staff.get(path).text), path


def test_a_country_name_is_the_common_name_and_an_unknown_code_stays_as_written():
    assert country_name("SE") == "Sweden"
    assert country_name("de") == "Germany"
    assert country_name("TW") == "Taiwan"  # the common name, not "Taiwan, Province of China"
    assert country_name("") == "" and country_name("XX") == "XX" and country_name("Sweden") == "Sweden"


@given(st.sampled_from(sorted(c.alpha_2 for c in pycountry.countries)))
def test_every_country_code_has_a_name_of_its_own(code):
    name = country_name(code)
    assert name and name != code and country_name(code.lower()) == name


def test_order_mail_says_1_unit_and_writes_money_as_the_site_does(app, product, customer):
    make_lot(product, "L-1", {DRUM: 5})
    _billing_in_sweden(customer)
    companies.set_terms(customer.company, "prepaid", "", "1000")
    db.session.commit()
    approver = customer  # the company's admin approves
    buyer = _as_buyer(make_customer("buyer2@acme.example", "Elsewhere"))
    buyer.company_id = approver.company_id
    db.session.commit()
    single = ordering.place_order(approver, [{"sku": DRUM, "quantity": 1}], SWEDEN)
    double = ordering.place_order(buyer, [{"sku": DRUM, "quantity": 2}], SWEDEN)
    drain()

    received = next(m for m in outbox_mail() if m.subject == f"Order {single.number} received")
    assert f"- L-Leucine USP, 25 kg ({DRUM}): 1 unit\n" in received.body  # the product named, not the SKU alone
    assert "(1 unit)" in received.body and "1 units" not in received.body
    assert "Subtotal: 1,950.00 EUR" in received.body and "1,950.00 EUR" in received.alternatives[0][0]
    assert "Total: 2,320.50 EUR" in received.body  # to Sweden, to a company without a VAT ID: German VAT
    waiting = [m for m in outbox_mail() if double.number in m.subject]
    assert waiting and all("3,900.00 EUR" in m.body and "3900.00" not in m.body for m in waiting)
    assert any(f"({DRUM}): 2 units" in m.body for m in waiting)


def _reorder_notice(client, number: str) -> str:
    return text_of(client.post(f"/orders/{number}/reorder", follow_redirects=True).text)


def test_order_again_asks_to_check_flagged_lines_only_when_a_line_is_flagged(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 10})
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 2}], SWEDEN)
    db.session.commit()
    sign_in(client)

    unchanged = _reorder_notice(client, order.number)
    assert f"The 1 line of order {order.number} is in your cart at today's prices." in unchanged
    assert "flagged" not in unchanged

    db.session.scalar(select(Variant).where(Variant.sku == DRUM)).unit_price = Decimal("2050.00")
    db.session.commit()
    changed = _reorder_notice(client, order.number)
    assert "Check the lines flagged below before you check out." in changed
    assert "it was 1,950.00 EUR on order" in changed


def _field_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<(?:input|select)[^>]*\bname="{name}"[^>]*>', html)
    if tag and tag.group(0).startswith("<select"):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                           html[tag.end():html.index("</select>", tag.end())])
        return next((v for v in chosen.groups() if v is not None), None) if chosen else None
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def test_first_checkout_starts_from_the_companys_billing_address(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 5})
    _billing_in_sweden(customer)
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "1"})
    page = client.get("/checkout").text
    assert _field_value(page, "name") == "Acme Nutrition"
    assert _field_value(page, "line1") == "Sveavägen 44" and _field_value(page, "city") == "Stockholm"
    assert _field_value(page, "postal_code") == "111 34" and _field_value(page, "country") == "SE"


def test_checkout_says_before_placing_that_a_buyers_order_above_the_threshold_waits(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 5})
    companies.set_terms(customer.company, "prepaid", "", "2000")
    db.session.commit()
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "1"})
    admin_page = text_of(client.get("/checkout").text)
    assert "wait for approval" not in admin_page  # an admin's orders are not held

    _as_buyer(customer)
    page = text_of(client.get("/checkout").text)  # 1,950.00 before VAT is not above 2,000.00, its total is
    assert ("This order will wait for approval: its total, 2,320.50 EUR with VAT, is above your company's approval "
            "threshold of 2,000.00 EUR.") in page
    assert page.index("wait for approval") < page.index("Place order")
    companies.set_terms(customer.company, "prepaid", "", "2320.50")
    db.session.commit()
    assert "wait for approval" not in text_of(client.get("/checkout").text)  # "above" is strictly greater
