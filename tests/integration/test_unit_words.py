"""Follow-up of issue 21 (one way to count units in words): a shortage of one unit reads "1 unit" wherever it is
written, in the buyer's mail and order page as in the note the recall leaves on the order, the refusal to confirm
it and the order's history, never "1 units"."""
from __future__ import annotations

import re

import pytest

from shop import ordering
from shop.ordering import shortages
from shop.ordering.models import Order
from shop.platform.errors import IllegalTransition
from shop.platform.extensions import db
from tests.support.factories import make_lot, make_staff, recall_leaving_short
from tests.support.mail import drain, outbox_mail
from tests.support.staff import place, text_of
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


def _short_by(product, customer, units: int) -> Order:
    """An order of `units` drums whose only lot is recalled with nothing to replace it."""
    make_lot(product, "L-BAD", {DRUM: 5}, expires_in_days=400)
    order = place(customer, DRUM, units)
    drain()
    recall_leaving_short("L-BAD", "Foreign particles")
    db.session.commit()
    drain()
    db.session.expire_all()
    return order


def test_an_order_one_unit_short_says_1_unit_to_the_buyer_and_to_staff(app, client, product, customer):
    order = _short_by(product, customer, 1)

    (notice,) = [m for m in outbox_mail() if m.subject == "Recall of lot L-BAD"]
    assert f"{order.number}: goes ahead with what it holds; 1 unit of {DRUM} backordered" in notice.body
    buyer = app.test_client()
    sign_in(buyer, customer.email)
    buyer_page = text_of(buyer.get(f"/orders/{order.number}").text)
    assert f"({DRUM}) misses 1 of 1 unit. We allocate them" in buyer_page

    assert db.session.get(Order, order.id).attention_note == f"Lot L-BAD recalled: {DRUM} short by 1 of 1 unit."
    with pytest.raises(IllegalTransition) as refused:
        ordering.confirm_order(order.number)
    assert f"{DRUM} misses 1 of 1 unit. Allocate" in str(refused.value)
    db.session.rollback()
    staff_sign_in(client, "fulfilment")
    staff_page = text_of(client.get(f"/staff/orders/{order.number}").text)
    assert "1 of 1 unit" in staff_page
    assert not re.search(r"\b1 units", " ".join((staff_page, buyer_page, notice.body)))


def test_a_unit_allocated_by_hand_is_1_unit_in_the_history_and_the_buyer_mail(app, product, customer):
    order = _short_by(product, customer, 2)
    make_lot(product, "L-HAND", {DRUM: 1}, expires_in_days=600)
    shortages.allocate_by_hand(order.number, 0, "L-HAND", 1, make_staff("fulfilment"))
    db.session.commit()
    drain()

    history = db.session.get(Order, order.id).history
    assert history[-1].note == f"Allocated by hand: {DRUM} 1 unit from lot L-HAND"
    (changed,) = [m for m in outbox_mail() if m.subject == f"Order {order.number} changed"]
    assert f"1 unit of {DRUM} now comes from lot L-HAND" in changed.body
    assert f"still short of 1 unit of {DRUM}" in changed.body and "1 units" not in changed.body


def test_cancelling_one_missing_unit_is_1_unit_in_the_history(app, product, customer):
    order = _short_by(product, customer, 2)
    make_lot(product, "L-HAND", {DRUM: 1}, expires_in_days=600)
    shortages.allocate_by_hand(order.number, 0, "L-HAND", 1, make_staff("fulfilment"))
    shortages.cancel_short_units(order.number, make_staff("fulfilment", email="second@shop.example"))
    db.session.commit()

    history = db.session.get(Order, order.id).history
    assert history[-1].note == f"Missing units cancelled (they could not be supplied): {DRUM} 1 of 2 units"
    assert "Still short" not in history[-1].note
