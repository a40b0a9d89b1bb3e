"""Finding 1: forms report every error in one round, beside its field; checkout names each line that cannot be
ordered with its own reason (stock, minimum order, shelf life, no longer sold)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.catalog.models import Variant
from shop.inventory.models import Batch
from shop.ordering.models import Order
from shop.platform.errors import InsufficientStock, InvalidInput, Shortfall
from shop.platform.extensions import db
from tests.support.factories import make_lot, make_product
from tests.support.staff import sign_in as staff_sign_in
from tests.support.staff import text_of  # noqa: F401
from tests.support.storefront import CHECKOUT_ADDRESS, ask_to_register, field_error, registration_link, sign_in


def line_problem(html: str, sku: str) -> str | None:
    """The reason shown beside a cart line at checkout, or None."""
    match = re.search(rf'id="line-{re.escape(sku)}-problem"[^>]*>(.*?)</p>', html, re.S)
    return text_of(match.group(1)) if match else None


def _orders() -> int:
    count = db.session.scalar(select(func.count()).select_from(Order))
    db.session.rollback()
    return count


def _token(client) -> str:
    page = client.get("/checkout").text
    return re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)


def test_registration_shows_every_mistake_in_one_answer(app, client):
    response = client.post("/register", data={"company": "", "email": "not-an-address"})
    assert response.status_code == 422
    assert "company name is required" in field_error(response.text, "company")
    assert field_error(response.text, "email")  # the invalid address, not only on the next submit
    # The page the e-mailed link opens, likewise.
    ask_to_register(client)
    response = client.post(registration_link("new@brand.example"),
                           data={"company": "", "password": "short", "confirm": "different"})
    assert response.status_code == 422
    assert "company name is required" in field_error(response.text, "company")
    assert "at least" in field_error(response.text, "password")
    assert "differ" in field_error(response.text, "confirm")


def _four_bad_lines(client, product, customer):
    """A cart of four lines that each fail for another reason once the shelf life asked is 500 days."""
    ep = make_product("l-leucine-ep", "EP", "LEU-EP")
    make_lot(product, "USP-SHORT", {"LEU-USP-25KG": 2, "LEU-USP-1KG": 50}, expires_in_days=800)
    make_lot(ep, "EP-YOUNG", {"LEU-EP-25KG": 10, "LEU-EP-1KG": 10}, expires_in_days=400)
    sign_in(client)
    for sku, quantity in (("LEU-USP-25KG", 4), ("LEU-USP-1KG", 2), ("LEU-EP-1KG", 1), ("LEU-EP-25KG", 3)):
        client.post("/cart/add", data={"sku": sku, "quantity": str(quantity)})
    token = _token(client)
    # While the buyer fills in the address: the 1 kg minimum goes up, and the EP 1 kg pack is withdrawn.
    db.session.scalar(select(Variant).where(Variant.sku == "LEU-USP-1KG")).min_order_quantity = 5
    db.session.scalar(select(Variant).where(Variant.sku == "LEU-EP-1KG")).active = False
    db.session.commit()
    return token


def test_checkout_names_every_line_that_cannot_be_ordered_with_its_own_reason(app, client, product, customer):
    token = _four_bad_lines(client, product, customer)
    response = client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": token,
                                              "min_remaining_shelf_life_days": "500"})
    assert response.status_code == 409
    html = response.text
    stock = line_problem(html, "LEU-USP-25KG")
    assert "you asked for 4" in stock and "2 available" in stock
    assert "minimum order" in line_problem(html, "LEU-USP-1KG").lower() and "5" in line_problem(html, "LEU-USP-1KG")
    assert "no longer sold" in line_problem(html, "LEU-EP-1KG").lower()
    shelf = line_problem(html, "LEU-EP-25KG")
    assert "shelf life" in shelf and "500 days" in shelf
    assert "No order was placed" in text_of(html)
    assert _orders() == 0


def test_minimum_shelf_life_is_named_as_the_reason_not_changed_stock(app, client, product, customer):
    make_lot(product, "USP-400D", {"LEU-USP-25KG": 10}, expires_in_days=400)
    sign_in(client)
    client.post("/cart/add", data={"sku": "LEU-USP-25KG", "quantity": "2"})
    response = client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": _token(client),
                                              "min_remaining_shelf_life_days": "700"})
    assert response.status_code == 409
    reason = line_problem(response.text, "LEU-USP-25KG")
    assert "more than 700 days of shelf life" in reason and "10 in stock" in reason
    assert "Stock changed since you filled your cart" not in response.text
    assert _orders() == 0


def test_checkout_shows_address_errors_and_line_reasons_together(app, client, product, customer):
    make_lot(product, "USP-2", {"LEU-USP-25KG": 2})
    sign_in(client)
    client.post("/cart/add", data={"sku": "LEU-USP-25KG", "quantity": "3"})
    response = client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": _token(client), "city": ""})
    assert response.status_code == 422
    assert field_error(response.text, "city")
    assert "2 available" in line_problem(response.text, "LEU-USP-25KG")
    assert _orders() == 0


@pytest.mark.usefixtures("staff_clients")
def test_lot_receipt_shows_every_mistake_in_one_answer(client, product):
    staff_sign_in(client, "warehouse")
    page = client.post("/staff/batches/receive?product=l-leucine-usp", data={
        "lot_number": "", "manufactured_on": "2026-01-10", "expires_on": "2025-01-01"})
    assert page.status_code == 422
    assert 'id="lot_number-error"' in page.text
    assert "The expiry date must come after the manufacturing date." in text_of(page.text)
    assert "at least one pack size" in text_of(page.text)
    assert db.session.scalar(select(func.count(Batch.id))) == 0


@pytest.mark.usefixtures("staff_clients")
def test_stock_adjustment_shows_every_mistake_in_one_answer(client, product):
    batch = make_lot(product, "L-ADJ", {"LEU-USP-25KG": 5})
    staff_sign_in(client, "warehouse")
    page = client.post(f"/staff/stock/{batch.stocks[0].id}/adjust", data={"kind": "adjustment", "delta": "0",
                                                                          "reason": ""})
    assert page.status_code == 422
    assert "other than zero" in page.text and "A reason is required for every adjustment." in page.text


@pytest.mark.parametrize("refusal, status, said", [
    (InsufficientStock([Shortfall("LEU-USP-25KG", 3, 1)]), 409,
     "Only 1 can be allocated to this order now: you asked for 3."),
    (InvalidInput({"lines.0.quantity": ["The minimum order for LEU-USP-25KG is 4 units."]}), 422,
     "The minimum order for LEU-USP-25KG is 4 units."),
])
def test_a_refusal_that_came_in_between_is_shown_beside_its_line(app, client, product, customer, monkeypatch,
                                                                  refusal, status, said):
    """The order service refuses what the page had just checked (another order or a catalog change came in
    between): the line still gets its reason, in the service's words where a fresh check finds nothing."""
    make_lot(product, "USP-1", {"LEU-USP-25KG": 10})
    sign_in(client)
    client.post("/cart/add", data={"sku": "LEU-USP-25KG", "quantity": "3"})

    def refuse(*args, **kwargs):
        raise refusal

    monkeypatch.setattr(ordering, "place", refuse)
    response = client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": _token(client)})
    assert response.status_code == status
    assert line_problem(response.text, "LEU-USP-25KG") == said
    assert "No order was placed" in text_of(response.text)
    assert _orders() == 0
