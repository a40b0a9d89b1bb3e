"""Storefront checkout and My orders: one order per checkout form, shortfalls, another's order is 404."""
from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from shop import ordering
from shop.inventory.models import Stock
from shop.ordering.models import Order
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_lot
from tests.support.sql import count_statements
from tests.support.staff import text_of
from tests.support.storefront import CHECKOUT_ADDRESS, field_error, sign_in


def _orders() -> int:
    count = db.session.scalar(select(func.count()).select_from(Order))
    db.session.rollback()  # never hold SQLite's write lock while the app works
    return count


def _fill_cart(client, quantity=2, sku="LEU-USP-25KG"):
    client.post("/cart/add", data={"sku": sku, "quantity": str(quantity)})


def _token(client) -> str:
    page = client.get("/checkout").text
    return re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)


def _checkout(client, token, **overrides):
    return client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": token, **overrides})


def test_signed_out_checkout_goes_through_sign_in_back_to_the_cart(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    _fill_cart(client)
    to_sign_in = client.get("/checkout")
    assert to_sign_in.status_code == 302
    form = client.get(to_sign_in.headers["Location"]).text
    next_value = re.search(r'id="next" name="next" type="hidden" value="([^"]*)"', form).group(1)
    assert next_value == "/cart"
    back = sign_in(client, next=next_value)
    assert back.headers["Location"] == "/cart"
    assert "3,900.00 EUR" in client.get("/cart").text  # the cart survived signing in
    assert client.get("/checkout").status_code == 200


def test_checkout_places_the_order_and_shows_number_and_lot(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    sign_in(client)
    _fill_cart(client)
    response = _checkout(client, _token(client))
    assert response.status_code == 302
    order = db.session.scalar(select(Order))
    db.session.rollback()
    assert response.headers["Location"] == f"/orders/{order.number}/confirmation"
    page = client.get(response.headers["Location"]).text
    assert order.number in page and "Lot L-1" in page and "PO-77" in page
    listing = client.get("/orders").text
    assert order.number in listing and "L-1" in listing
    assert "Your cart is empty" in client.get("/cart").text


def test_bad_address_is_shown_beside_the_fields_and_places_nothing(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    sign_in(client)
    _fill_cart(client)
    response = _checkout(client, _token(client), city="", country="", min_remaining_shelf_life_days="-3")
    assert response.status_code == 422
    assert field_error(response.text, "city") and field_error(response.text, "country")
    assert field_error(response.text, "min_remaining_shelf_life_days")
    assert field_error(response.text, "line1") is None
    # No country, and the company has no billing address to start from: the VAT shown is said to be a stand-in.
    assert ("Choose the country you ship to: until then the VAT shown is for delivery to Germany, the seller's "
            "country") in text_of(response.text)
    assert "Choose the country you ship to" not in text_of(_checkout(client, _token(client), city="").text)
    assert _orders() == 0


def test_stock_gone_meanwhile_shows_the_short_line_and_makes_no_order(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 5})
    sign_in(client)
    _fill_cart(client, quantity=4)
    token = _token(client)
    rival = make_customer("rival@example.com", "Rival")
    ordering.place_order(rival, [{"sku": "LEU-USP-25KG", "quantity": 3}], {**CHECKOUT_ADDRESS})
    db.session.commit()
    response = _checkout(client, token)
    assert response.status_code == 409
    assert "No order was placed" in response.text
    assert re.search(r"LEU-USP-25KG</strong>: Only 2 available now: you asked for 4\.", response.text)
    assert _orders() == 1  # the rival's only
    assert db.session.scalar(select(Stock.allocated)) == 3
    db.session.rollback()


def test_same_checkout_form_sent_twice_makes_one_order(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    sign_in(client)
    _fill_cart(client)
    token = _token(client)
    first = _checkout(client, token)
    _fill_cart(client)  # even with a new cart, the old form must not order again
    second = _checkout(client, token)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert _orders() == 1
    shown = client.get(second.headers["Location"]).text  # the order it placed, shown again
    number = first.headers["Location"].split("/")[2]
    assert f"Order {number} was already placed with this form; here it is." in shown
    assert number in shown and "Lot L-1" in shown


def test_a_second_tab_with_the_same_page_and_another_cart_is_asked_to_check_again(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    sign_in(client)
    _fill_cart(client)
    token = _token(client)
    other_tab = app.test_client()
    other_tab.set_cookie("session", client.get_cookie("session").value)  # the same session, before the order
    assert _checkout(client, token).status_code == 302
    _fill_cart(other_tab, quantity=1)  # this tab's cart differs, and still holds the page's token
    answer = _checkout(other_tab, token)
    assert answer.status_code == 409
    assert "This checkout page was used for another order a moment ago." in answer.text
    assert _orders() == 1


def test_simultaneous_double_submit_makes_one_order(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    sign_in(client)
    _fill_cart(client)
    token = _token(client)
    cookie = client.get_cookie("session").value
    # Two browsers' worth of requests carrying the same session and form, sent at the same moment.
    clients = [app.test_client() for _ in range(2)]
    for c in clients:
        c.set_cookie("session", cookie)
    db.session.remove()
    barrier, answers = threading.Barrier(2), []

    def submit(c):
        with app.app_context():
            barrier.wait()
            answers.append(_checkout(c, token))

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert _orders() == 1


def test_out_of_date_checkout_form_is_refused_without_ordering(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    sign_in(client)
    _fill_cart(client)
    _token(client)
    response = _checkout(client, "forged-or-stale-token")
    assert response.status_code == 409 and "out of date" in response.text
    assert _orders() == 0


def test_another_customers_order_is_404(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    other = make_customer("other@example.com", "Other Co")
    order = ordering.place_order(other, [{"sku": "LEU-USP-25KG", "quantity": 1}], {**CHECKOUT_ADDRESS})
    db.session.commit()
    sign_in(client)
    for url in (f"/orders/{order.number}", f"/orders/{order.number}/confirmation", f"/orders/{order.number}/cancel"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/orders/{order.number}/cancel", data={"confirm": "yes"}).status_code == 404
    assert order.number not in client.get("/orders").text
    db.session.refresh(order)
    assert order.status == "pending"
    db.session.rollback()


def test_cancel_releases_the_lots_and_only_while_allowed(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-25KG": 10})
    sign_in(client)
    _fill_cart(client, quantity=3)
    number = _checkout(client, _token(client)).headers["Location"].split("/")[2]
    assert ">Cancel order…<" in client.get(f"/orders/{number}").text
    client.post(f"/orders/{number}/cancel", data={"confirm": "yes"})
    page = client.get(f"/orders/{number}").text
    assert "is cancelled" in page and ">Cancel order…<" not in page
    assert db.session.scalar(select(Stock.allocated)) == 0
    db.session.rollback()
    again = client.post(f"/orders/{number}/cancel", data={"confirm": "yes"})
    assert "can no longer be cancelled" in client.get(again.headers["Location"]).text


def test_my_orders_pages_through_older_orders(app, client, product, customer):
    make_lot(product, "L-1", {"LEU-USP-1KG": 100})
    for _ in range(23):
        ordering.place_order(customer, [{"sku": "LEU-USP-1KG", "quantity": 1}], {**CHECKOUT_ADDRESS})
    db.session.commit()
    numbers = [o.number for o in ordering.list_orders(company_id=customer.company_id, limit=100)]
    db.session.rollback()
    sign_in(client)
    first = client.get("/orders").text
    assert all(n in first for n in numbers[:20]) and not any(n in first for n in numbers[20:])
    older = re.search(r'href="(/orders\?after=[^"]+)">Older orders', first).group(1).replace("&amp;", "&")
    second = client.get(older).text
    assert all(n in second for n in numbers[20:]) and not any(n in second for n in numbers[:20])
    assert "Older orders" not in second
    assert client.get("/orders?after=garbage").status_code == 400


def _as_a_request_of_its_own(send):
    """send() from a thread of its own, so that its request runs in an application context (and session, and
    signed-in user) of its own, as in production, and not in the test's."""
    answers = []
    thread = threading.Thread(target=lambda: answers.append(send()))
    thread.start()
    thread.join(30)
    return answers[0]


def test_on_postgresql_a_checkout_costs_at_most_six_statements(app, client, backend, product, customer):
    """The signed-in customer, the cart's lines in catalog order, then the order service's read (with the
    checkout token's record) and its one write."""
    if backend != "postgresql":
        pytest.skip("SQLite writes one statement per table")
    make_lot(product, "L-1", {"LEU-USP-25KG": 10, "LEU-USP-1KG": 10})
    sign_in(client)
    _fill_cart(client)
    _fill_cart(client, sku="LEU-USP-1KG")
    token = _token(client)
    db.session.remove()
    with count_statements() as statements:
        response = _as_a_request_of_its_own(lambda: _checkout(client, token))
    assert response.status_code == 302 and "/confirmation" in response.headers["Location"]
    assert len(statements) <= 6, "\n\n".join(statements)
    print(f"\nSQL statements per checkout POST: {len(statements)}")
    with count_statements() as statements:
        assert _as_a_request_of_its_own(lambda: _checkout(client, token)).status_code == 302
    assert len(statements) <= 2, "\n\n".join(statements)  # sent again: the customer, the token's record
