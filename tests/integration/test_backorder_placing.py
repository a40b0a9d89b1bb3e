"""Placing an order that backorders what is not in stock (`allow_backorder`, the checkout's box), and cancelling
the backordered rest (API and order page): what is allocated, what waits, what the buyer is told."""
from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from shop.inventory.models import Stock
from shop.ordering.models import Order
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import assert_problem, available, order_count
from tests.support.factories import make_lot
from tests.support.storefront import CHECKOUT_ADDRESS, sign_in

DRUM = "LEU-USP-25KG"


def _drums(api, quantity, key=None, **fields):
    return api.order([{"sku": DRUM, "quantity": quantity}], key=key, **fields)


def _events(kind: str) -> list[dict]:
    rows = db.session.scalars(select(OutboxEvent.data).where(OutboxEvent.type == kind).order_by(OutboxEvent.id))
    return [json.loads(data) for data in rows]


def test_a_short_order_that_allows_a_backorder_takes_the_stock_and_backorders_the_rest(api, stocked):
    response = _drums(api, 20, allow_backorder=True)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    line = order["lines"][0]
    assert order["allow_backorder"] is True and order["status"] == "pending"
    assert [(a["lot_number"], a["quantity"]) for a in line["allocations"]] == [("L-SOON", 6), ("L-LATE", 10)]
    assert (line["quantity"], line["backordered_quantity"], line["shipped_quantity"]) == (20, 4, 0)
    assert line["line_total"] == "35200.00"  # the whole line is ordered: 20 at the break's 1760.00
    assert available(api, DRUM) == 0  # availability never counts the 4 waiting units
    assert api.get(f"/api/v1/orders/{order['number']}").get_json() == order
    assert _events("order.placed")[0]["lines"][0]["backordered_quantity"] == 4


def test_without_allow_backorder_the_short_order_is_refused_whole(api, stocked):
    assert_problem(_drums(api, 20), 409, "insufficient-stock")
    assert order_count() == 0 and available(api, DRUM) == 16


def test_an_order_with_nothing_in_stock_backorders_every_unit_and_takes_none(api, app):
    from tests.support.factories import make_product
    make_product()
    response = _drums(api, 3, allow_backorder=True)
    assert response.status_code == 201, response.get_json()
    line = response.get_json()["lines"][0]
    assert line["allocations"] == [] and line["backordered_quantity"] == 3
    assert db.session.scalar(select(func.coalesce(func.sum(Stock.allocated), 0))) == 0


def test_an_order_in_stock_backorders_nothing(api, stocked):
    line = _drums(api, 5, allow_backorder=True).get_json()["lines"][0]
    assert line["backordered_quantity"] == 0 and sum(a["quantity"] for a in line["allocations"]) == 5


def test_allow_backorder_must_be_a_boolean(api, stocked):
    problem = assert_problem(_drums(api, 20, allow_backorder="yes"), 422, "validation-error")
    assert "allow_backorder" in problem["errors"]
    assert order_count() == 0


def test_a_replay_answers_the_same_backordered_order_and_another_body_with_the_key_is_refused(api, stocked):
    first = _drums(api, 20, key="bo-1", allow_backorder=True)
    again = _drums(api, 20, key="bo-1", allow_backorder=True)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and order_count() == 1
    assert_problem(_drums(api, 20, key="bo-1"), 422, "idempotency-key-reused")


def test_cancelling_the_backorder_keeps_the_allocated_units_and_lowers_the_total(api, rival, stocked):
    number = _drums(api, 20, allow_backorder=True).get_json()["number"]
    answer = api.post(f"/api/v1/orders/{number}/cancel-backorder")
    assert answer.status_code == 200
    order = api.get(f"/api/v1/orders/{number}").get_json()
    assert answer.get_json() == order
    line = order["lines"][0]
    assert (line["backordered_quantity"], line["cancelled_quantity"]) == (0, 4)
    assert sum(a["quantity"] for a in line["allocations"]) == 16 and order["status"] == "pending"
    assert line["line_total"] == order["subtotal"] == "28160.00"  # 16 at 1760.00
    assert (order["vat"], order["total"]) == ("5350.40", "33510.40")
    changed = _events("order.changed")[-1]
    assert changed["cause"] == "backorder_cancelled" and changed["version"] == order["version"] == 2
    assert {"kind": "cancelled", "sku": DRUM, "quantity": 4} in changed["changes"]
    assert_problem(api.post(f"/api/v1/orders/{number}/cancel-backorder"), 409, "illegal-transition")
    assert_problem(rival.post(f"/api/v1/orders/{number}/cancel-backorder"), 404, "not-found")


def test_cancelling_a_backorder_answers_the_order(api, stocked):
    number = _drums(api, 17, allow_backorder=True).get_json()["number"]
    response = api.post(f"/api/v1/orders/{number}/cancel-backorder", json={})
    assert response.status_code == 200
    assert response.get_json()["lines"][0]["cancelled_quantity"] == 1


def test_cancelling_the_backorder_of_an_order_that_holds_nothing_cancels_the_order(api, app):
    from tests.support.factories import make_product
    make_product()
    number = _drums(api, 3, allow_backorder=True).get_json()["number"]
    response = api.post(f"/api/v1/orders/{number}/cancel-backorder")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert response.get_json()["lines"][0]["backordered_quantity"] == 0
    assert "nothing else was left" in _events("order.cancelled")[0]["reason"]


def test_an_order_without_a_backorder_has_none_to_cancel(api, stocked):
    number = _drums(api, 2).get_json()["number"]
    assert_problem(api.post(f"/api/v1/orders/{number}/cancel-backorder"), 409, "illegal-transition")
    assert api.get(f"/api/v1/orders/{number}").get_json()["version"] == 1


def test_cancelling_the_order_cancels_its_backorder_too(api, stocked):
    number = _drums(api, 20, allow_backorder=True).get_json()["number"]
    cancelled = api.post(f"/api/v1/orders/{number}/cancel").get_json()
    assert cancelled["status"] == "cancelled" and cancelled["lines"][0]["backordered_quantity"] == 0
    assert available(api, DRUM) == 16


# --- The storefront ----------------------------------------------------------------------------------------


def _token(client) -> str:
    page = client.get("/checkout").text
    return re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)


def _checkout_short(client, product, **form):
    make_lot(product, "L-1", {DRUM: 2})
    sign_in(client)
    client.post("/cart/add", data={"sku": DRUM, "quantity": "5"})
    return client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": _token(client), **form})


def test_checkout_refuses_a_short_cart_and_points_at_the_backorder_box(app, client, product, customer):
    response = _checkout_short(client, product)
    assert response.status_code == 409 and "No order was placed" in response.text
    assert "Or tick “Ship what is in stock now, the rest when it is made” below" in response.text
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_checkout_with_the_box_places_the_order_and_its_page_shows_and_cancels_the_backorder(
        app, client, product, customer):
    response = _checkout_short(client, product, allow_backorder="y")
    assert response.status_code == 302, response.text
    order = db.session.scalar(select(Order))
    db.session.rollback()
    page = client.get(f"/orders/{order.number}").text
    assert "3 units: allocated to this order when the next lot is released" in page
    assert "Cancel the 3 units backordered" in page
    done = client.post(f"/orders/{order.number}/cancel-backorder", data={}, follow_redirects=True)
    assert "The backordered units of order" in done.text
    assert "Cancel the 3 units backordered" not in done.text and "3 units cancelled: not delivered" in done.text
    assert '<span class="muted small">3 cancelled</span>' in done.text  # beside the units ordered, which stay
    line = db.session.scalar(select(Order)).lines[0]
    assert (line.backordered_quantity, line.cancelled_quantity) == (0, 3)
    db.session.rollback()


def test_the_buyer_is_mailed_what_is_backordered_and_when_they_cancel_it(app):
    from shop import fulfilment, ordering
    from tests.support.api import ADDRESS
    from tests.support.factories import make_customer, make_product
    from tests.support.mail import drain, outbox_mail

    make_lot(make_product(), "L-MAIL", {DRUM: 2})
    customer = make_customer("buyer@acme.example")
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 5}], ADDRESS, allow_backorder=True)
    db.session.commit()
    drain()
    fulfilment.cancel_backorder(order.number, customer=customer)
    db.session.commit()
    drain()
    receipt, changed = outbox_mail()
    assert receipt.subject == f"Order {order.number} received"
    assert "lot L-MAIL (2 units)" in receipt.body
    assert "backordered: 3 units, allocated to the order when the next lot is released" in receipt.body
    assert changed.subject == f"Order {order.number} changed" and changed.to == ["buyer@acme.example"]
    assert f"Backordered units cancelled: {DRUM} 3 units." in changed.body
    assert "3 units of LEU-USP-25KG cancelled: not delivered, not charged" in changed.body
