"""Finding 6: cancelling an order (storefront and staff) first shows what will happen, and only a confirmed
second step cancels."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.inventory.models import Stock
from shop.ordering.models import Order
from shop.platform.extensions import db
from tests.support.billing import ship_paid
from tests.support.factories import make_lot
from tests.support.staff import place, text_of  # noqa: F401
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in


def _status(number: str) -> str:
    status = db.session.scalar(select(Order.status).where(Order.number == number))
    db.session.rollback()
    return status


def _allocated() -> int:
    total = sum(db.session.scalars(select(Stock.allocated)))
    db.session.rollback()
    return total


def test_storefront_cancel_shows_the_units_that_go_back_and_cancels_only_when_confirmed(app, client, product,
                                                                                     customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10, "LEU-USP-1KG": 10})
    number = place(customer, "LEU-USP-25KG", 4).number
    sign_in(client)
    order_page = client.get(f"/orders/{number}").text
    assert not re.search(rf'<form[^>]+action="/orders/{number}/cancel"', order_page)  # no one-click cancel
    unconfirmed = client.post(f"/orders/{number}/cancel")  # what the old one-click button sent
    assert unconfirmed.status_code == 303 and unconfirmed.headers["Location"].endswith(f"/orders/{number}/cancel")
    assert _status(number) == "pending" and _allocated() == 4

    confirm = text_of(client.get(f"/orders/{number}/cancel").text)
    assert f"Cancel order {number}?" in confirm
    assert "4 × 25 kg (LEU-USP-25KG) from lot L-1" in confirm and "100 kg" in confirm
    assert "8,806.00 EUR" in confirm  # 4 drums at the 4-drum price break, 7,400.00 and 19 % VAT
    assert "Keep the order" in confirm

    done = client.post(f"/orders/{number}/cancel", data={"confirm": "yes"})
    assert done.status_code == 302
    assert _status(number) == "cancelled" and _allocated() == 0
    # The cancelled order's page offers nothing that belongs to an order on its way: no complaint about goods that
    # never came, no invoice to come, no documents of a confirmation that never was.
    cancelled = text_of(client.get(f"/orders/{number}").text)
    assert "Report a problem" not in cancelled and "An invoice is issued when the goods ship" not in cancelled
    assert "Nothing was invoiced: the order is cancelled." in cancelled
    assert "The order was cancelled before we confirmed it: no documents were recorded for it." in cancelled


def test_storefront_cancel_confirmation_of_a_shipped_order_says_it_is_too_late(app, client, product, customer):
    from shop import ordering

    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    number = place(customer, "LEU-USP-25KG", 1).number
    ordering.confirm_order(number)
    ship_paid(number, "DHL-1")
    db.session.commit()
    sign_in(client)
    page = client.get(f"/orders/{number}/cancel", follow_redirects=True)
    assert "can no longer be cancelled" in page.text
    assert _status(number) == "shipped"


@pytest.mark.usefixtures("staff_clients")
def test_staff_cancel_shows_what_will_happen_and_needs_a_second_confirmed_step(client, product, customer):
    make_lot(product, "L-A", {"LEU-USP-25KG": 10}, expires_in_days=300)
    make_lot(product, "L-B", {"LEU-USP-25KG": 10}, expires_in_days=600)
    number = place(customer, "LEU-USP-25KG", 16).number  # 10 from L-A, 6 from L-B: 28,160.00 EUR
    staff_sign_in(client, "fulfilment")
    first = client.post(f"/staff/orders/{number}/cancel", data={"reason": "customer phoned"})
    assert first.status_code == 200
    text = text_of(first.text)
    assert f"Cancel order {number}?" in text
    assert "10 × 25 kg (LEU-USP-25KG) from lot L-A" in text and "6 × 25 kg (LEU-USP-25KG) from lot L-B" in text
    assert "400 kg" in text and "33,510.40 EUR" in text and "Acme Nutrition" in text
    assert _status(number) == "pending" and _allocated() == 16

    done = client.post(f"/staff/orders/{number}/cancel", data={"reason": "customer phoned", "confirmed": "1"},
                       follow_redirects=True)
    assert f"Order {number} cancelled" in done.text
    assert _status(number) == "cancelled" and _allocated() == 0
    history = db.session.scalar(select(Order).where(Order.number == number)).history
    assert history[-1].note == "customer phoned"
    db.session.rollback()
