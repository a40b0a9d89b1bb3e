"""An order's page, the buyer's and the staff's, reads its lines' pack sizes and products with the order: a
three-line order costs the statements of a one-line one."""
from __future__ import annotations

import pytest

from shop import ordering
from shop.platform.extensions import db
from tests.support.api import ADDRESS
from tests.support.factories import make_lot, make_product
from tests.support.staff import page_statements
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in

THREE_LINES = ("LEU-USP-25KG", "LEU-USP-1KG", "LEU-FCC-1KG")


def _orders(product, customer) -> tuple[str, str]:
    """A one-line order and a three-line one (two products)."""
    make_lot(product, "L-USP", {"LEU-USP-25KG": 5, "LEU-USP-1KG": 10})
    make_lot(make_product("l-leucine-fcc", "FCC", "LEU-FCC"), "L-FCC", {"LEU-FCC-1KG": 10})
    one = ordering.place_order(customer, [{"sku": "LEU-USP-1KG", "quantity": 1}], ADDRESS)
    three = ordering.place_order(customer, [{"sku": sku, "quantity": 2} for sku in THREE_LINES], ADDRESS)
    db.session.commit()
    return one.number, three.number


def test_the_buyers_order_page_costs_the_same_statements_for_one_line_or_three(client, product, customer):
    one, three = _orders(product, customer)
    sign_in(client)
    assert page_statements(client, f"/orders/{three}") == page_statements(client, f"/orders/{one}")
    assert "L-Leucine FCC" in client.get(f"/orders/{three}").text


@pytest.mark.usefixtures("staff_clients")
def test_the_staff_order_page_costs_the_same_statements_for_one_line_or_three(client, product, customer):
    one, three = _orders(product, customer)
    staff_sign_in(client, "fulfilment")
    assert page_statements(client, f"/staff/orders/{three}") == page_statements(client, f"/staff/orders/{one}")
    assert "LEU-FCC-1KG" in client.get(f"/staff/orders/{three}").text
