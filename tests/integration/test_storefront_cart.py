"""Storefront cart: add, change, remove, price breaks in the subtotal, flags before checkout."""
from __future__ import annotations

from shop.platform.extensions import db
from tests.support.factories import make_lot
from tests.support.storefront import field_error


def _add(client, sku="LEU-USP-25KG", quantity=2):
    return client.post("/cart/add", data={"sku": sku, "quantity": str(quantity)})


def test_add_change_and_remove_lines(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 20, "LEU-USP-1KG": 20})
    assert _add(client).headers["Location"] == "/cart"
    _add(client, quantity=1)  # adds up on the same line
    _add(client, sku="LEU-USP-1KG", quantity=3)
    page = client.get("/cart").text
    assert 'value="3"' in page and "Cart <span" in page and "(2 lines)" in page  # lines: 3 drums + 3 bags
    assert "5,850.00 EUR" in page  # 3 drums at list price 1,950.00
    client.post("/cart/update", data={"sku": "LEU-USP-25KG", "quantity": "4"})
    page = client.get("/cart").text
    assert "7,400.00 EUR" in page  # 4 drums reach the 1,850.00 break
    assert "7,688.00 EUR" in page  # subtotal with the 3 x 96.00 line
    client.post("/cart/remove", data={"sku": "LEU-USP-1KG"})
    client.post("/cart/update", data={"sku": "LEU-USP-25KG", "quantity": "0"})
    assert "Your cart is empty" in client.get("/cart").text


def test_bad_quantity_is_shown_beside_the_field_and_changes_nothing(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 20})
    response = _add(client, quantity=0)
    assert response.status_code == 422
    assert "whole number" in field_error(response.text, "qty-LEU-USP-25KG")
    assert field_error(response.text, "qty-LEU-USP-1KG") is None
    assert "Your cart is empty" in client.get("/cart").text
    _add(client, quantity=2)
    response = client.post("/cart/update", data={"sku": "LEU-USP-25KG", "quantity": "lots"})
    assert response.status_code == 422 and field_error(response.text, "qty-LEU-USP-25KG")
    assert "3,900.00 EUR" in client.get("/cart").text  # still the 2 drums


def test_a_quantity_in_other_digits_is_refused_not_read(app, client, product):
    # Python's int() reads each of these as 10 or 1000; a person may have meant something else, so they are refused.
    make_lot(product, "L-1", {"LEU-USP-25KG": 20})
    for typed in ("١٠", "１０", "1_000"):
        response = _add(client, quantity=typed)
        assert response.status_code == 422, typed
        assert field_error(response.text, "qty-LEU-USP-25KG"), typed
    assert "Your cart is empty" in client.get("/cart").text
    assert _add(client, quantity=" 10 ").headers["Location"] == "/cart"  # spaces around ASCII digits are fine


def test_line_above_availability_is_flagged(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    _add(client, quantity=7)
    page = client.get("/cart").text
    assert "Only 5 available now" in page and "cannot be ordered as they are" in page


def test_unknown_or_withdrawn_sku_is_dropped_with_a_message(app, client, product):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5, "LEU-USP-1KG": 5})
    _add(client, quantity=1)
    _add(client, sku="LEU-USP-1KG", quantity=1)
    with client.session_transaction() as session:
        session["cart"] = {**session["cart"], "NO-SUCH-SKU": 3}
    product.variants[0].active = False  # the 1 kg pack is withdrawn
    db.session.commit()
    page = client.get("/cart").text
    assert "removed from your cart: LEU-USP-1KG, NO-SUCH-SKU" in page
    assert "LEU-USP-25KG" in page
    with client.session_transaction() as session:
        assert session["cart"] == {"LEU-USP-25KG": 1}


def test_adding_an_unknown_sku_says_so(app, client, product):
    response = _add(client, sku="NOPE")
    assert response.status_code == 302
    assert "not sold any more" in client.get(response.headers["Location"]).text
