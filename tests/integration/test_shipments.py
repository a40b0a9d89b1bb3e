"""Partial shipments: staff ship part of an order (earliest expiry first, or the lot they choose), numbered S1, S2…;
stock, ledger and status follow; more than allocated, a recalled lot or nothing at all is refused and changes
nothing; each shipment is announced with its number and e-mails only its own lots; the order's JSON, the staff page,
the packing slip and the buyer's page show them. conftest checks the ledger after every test; the tests check it
after each step too."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from shop import fulfilment, ordering
from shop.fulfilment import Pick
from shop.inventory import lots as inventory
from shop.inventory.models import Batch, MovementKind, Stock, StockMovement
from shop.ordering.models import Order, OrderStatus, Shipment
from shop.platform.errors import IllegalTransition, InvalidInput
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from shop.quality.release import recall_batch
from tests.support.billing import five_drums_confirmed, pay_in_full, ship_paid
from tests.support.factories import make_lot, releaser, signed, signed_recall
from tests.support.mail import drain, outbox_mail
from tests.support.staff import ADDRESS, page_statements, place, sign_in, text_of
from tests.support.storefront import field_error
from tests.support.storefront import sign_in as buyer_sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


@pytest.fixture
def confirmed(app, product, customer) -> Order:
    """Five drums, confirmed (2 from L-EARLY, 3 from L-LATE) and paid: prepaid, as every company is unless its
    terms say otherwise."""
    order = five_drums_confirmed(product, customer)
    pay_in_full(order.number)
    return order


def _backordered(product, customer, backordered: int) -> Order:
    """Five drums in stock (2 of L-EARLY, 3 of L-LATE) and an order, confirmed, for `backordered` more, placed with
    allow_backorder: they wait for the next lot."""
    make_lot(product, "L-EARLY", {DRUM: 2}, expires_in_days=300)
    make_lot(product, "L-LATE", {DRUM: 3}, expires_in_days=600)
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 5 + backordered}], ADDRESS,
                                 allow_backorder=True)
    db.session.commit()
    ordering.confirm_order(order.number)
    db.session.commit()
    pay_in_full(order.number)
    assert order.lines[0].backordered_quantity == backordered
    return order


def _levels(lot: str) -> tuple[int, int]:
    """(on hand, allocated) of the lot's drums, as committed."""
    db.session.expire_all()
    stock = db.session.scalar(select(Stock).join(Batch).where(Batch.lot_number == lot))
    return stock.on_hand, stock.allocated


def _ship(number: str, *picks: Pick, tracking: str = "JJD-1", carrier: str = "DHL Freight") -> Shipment:
    pay_in_full(number)
    shipment = fulfilment.ship(number, list(picks), tracking_reference=tracking, carrier=carrier)
    db.session.commit()
    db.session.expire_all()
    assert inventory.check_ledger() == []
    return shipment


def _shipped_events(number: str) -> list[dict]:
    return [json.loads(e.data) for e in db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.type == "order.shipped", OutboxEvent.subject == number)
        .order_by(OutboxEvent.id))]


def test_a_partial_shipment_takes_the_earliest_expiring_lot_first_and_moves_stock_ledger_and_status(confirmed):
    shipment = _ship(confirmed.number, Pick(0, 3))
    assert shipment.number == f"{confirmed.number}-S1"
    assert _levels("L-EARLY") == (0, 0)
    assert _levels("L-LATE") == (5, 2)  # one of its three allocated drums left, two wait
    movements = db.session.scalars(select(StockMovement).where(StockMovement.kind == MovementKind.SHIPMENT)
                                   .order_by(StockMovement.id)).all()
    reason = f"Shipment {shipment.number}, tracking JJD-1"
    assert [(m.on_hand_delta, m.allocated_delta, m.reason) for m in movements] == [(-2, -2, reason), (-1, -1, reason)]
    order = ordering.get_order(confirmed.number)
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert order.history[-1].note == f"Shipment {shipment.number}: DHL Freight, tracking JJD-1"
    line = order.lines[0]
    assert (line.shipped_quantity, line.allocated_quantity) == (3, 2)
    assert (order.carrier, order.tracking_reference) == ("DHL Freight", "JJD-1")


def test_the_second_shipment_makes_the_order_shipped_and_the_json_lists_both(confirmed, client):
    _ship(confirmed.number, Pick(0, 1, "L-LATE"), tracking="JJD-1")
    ship_paid(confirmed.number, "JJD-2", carrier="UPS")  # the rest: 2 of L-EARLY, 2 of L-LATE
    db.session.commit()
    assert inventory.check_ledger() == []
    data = ordering.views.order(ordering.get_order(confirmed.number))
    assert data["status"] == "shipped"
    assert data["lines"][0]["shipped_quantity"] == 5
    assert (data["carrier"], data["tracking_reference"]) == ("UPS", "JJD-2")  # the latest shipment's
    assert [{k: v for k, v in s.items() if k != "shipped_at"} for s in data["shipments"]] == [
        {"number": f"{confirmed.number}-S1", "carrier": "DHL Freight", "tracking_reference": "JJD-1",
         "lines": [{"sku": DRUM, "quantity": 1, "lot_number": "L-LATE"}]},
        {"number": f"{confirmed.number}-S2", "carrier": "UPS", "tracking_reference": "JJD-2",
         "lines": [{"sku": DRUM, "quantity": 2, "lot_number": "L-EARLY"},
                   {"sku": DRUM, "quantity": 2, "lot_number": "L-LATE"}]}]
    assert _levels("L-EARLY") == (0, 0) and _levels("L-LATE") == (3, 0)
    with pytest.raises(IllegalTransition, match="is shipped and cannot be shipped"):
        fulfilment.ship(confirmed.number, [Pick(0, 1)], tracking_reference="JJD-3")


def test_each_shipment_announces_order_shipped_with_its_number(confirmed):
    _ship(confirmed.number, Pick(0, 2))
    _ship(confirmed.number, Pick(0, 3))
    events = _shipped_events(confirmed.number)
    assert [(e["shipment"], e["status"], len(e["shipments"])) for e in events] == [
        (f"{confirmed.number}-S1", "partially_shipped", 1), (f"{confirmed.number}-S2", "shipped", 2)]


def test_shipping_more_than_is_allocated_is_refused_and_changes_nothing(confirmed):
    for picks, path, message in [
        ([Pick(0, 6)], "lines.0.quantity", "Only 5 units of LEU-USP-25KG are allocated and not shipped, not 6."),
        ([Pick(0, 3, "L-EARLY")], "lines.0.quantity",
         "Only 2 units of LEU-USP-25KG from lot L-EARLY are allocated and not shipped, not 3."),
        ([Pick(0, 0)], "lines", "Choose at least one unit to ship."),
        ([Pick(0, -1)], "lines.0.quantity", "Enter a whole number of units, 0 or more."),
        ([Pick(0, 1.5)], "lines.0.quantity", "Enter a whole number of units, 0 or more."),
        ([Pick(1, 1)], "lines.1", "The order has no line 1."),
    ]:
        with pytest.raises(InvalidInput) as refused:
            fulfilment.ship(confirmed.number, picks, tracking_reference="JJD-1")
        assert refused.value.errors == {path: [message]}
        db.session.rollback()
    assert _levels("L-EARLY") == (2, 2) and _levels("L-LATE") == (6, 3)
    order = ordering.get_order(confirmed.number)
    assert order.status == OrderStatus.CONFIRMED and order.shipments == []
    assert _shipped_events(confirmed.number) == []
    assert inventory.check_ledger() == []


def test_a_recall_takes_the_units_of_a_partly_shipped_order_back_and_it_cannot_ship_them(confirmed):
    _ship(confirmed.number, Pick(0, 2))  # L-EARLY's two drums left; L-LATE's three wait
    signed_recall("L-LATE", "Foreign particles")  # no other lot: the three are backordered now
    db.session.commit()
    with pytest.raises(InvalidInput, match="LEU-USP-25KG has no units of lot L-LATE allocated and not shipped"):
        fulfilment.ship(confirmed.number, [Pick(0, 1, "L-LATE")], tracking_reference="JJD-2")
    db.session.rollback()
    order = ordering.get_order(confirmed.number)
    assert _levels("L-LATE") == (6, 0) and order.shipments[-1].sequence == 1
    assert (order.status, order.lines[0].backordered_quantity) == (OrderStatus.PARTIALLY_SHIPPED, 3)
    assert inventory.check_ledger() == []


def test_units_of_a_lot_recalled_under_the_order_cannot_ship(confirmed):
    # The lot as a recall sees it before it moves the orders' units: recalled, still allocated. A shipment locks
    # the lots for share, so it waits for such a recall, and then refuses what it took back.
    batch = db.session.scalar(select(Batch).where(Batch.lot_number == "L-LATE"))
    recall_batch(batch, "Foreign particles", signed(releaser(), "recall", "L-LATE"), "Do not use.")
    db.session.commit()
    with pytest.raises(InvalidInput) as named:
        fulfilment.ship(confirmed.number, [Pick(0, 1, "L-LATE")], tracking_reference="JJD-1")
    assert named.value.errors == {"lines.0.lot_number": ["Lot L-LATE is recalled: its units cannot ship."]}
    db.session.rollback()
    with pytest.raises(InvalidInput) as everything:
        ship_paid(confirmed.number, "JJD-1")
    assert everything.value.errors == {"lines.0.quantity": [
        "Only 2 units of LEU-USP-25KG are allocated and not shipped, not 5. Units of recalled lot L-LATE cannot "
        "ship."]}
    db.session.rollback()
    assert _levels("L-LATE") == (6, 3) and ordering.get_order(confirmed.number).status == OrderStatus.CONFIRMED
    assert inventory.check_ledger() == []


def test_backordered_units_keep_the_order_partially_shipped(app, product, customer):
    confirmed = _backordered(product, customer, 2)
    ship_paid(confirmed.number, "JJD-1")
    db.session.commit()
    order = ordering.get_order(confirmed.number)
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert (order.lines[0].shipped_quantity, order.lines[0].backordered_quantity) == (5, 2)
    with pytest.raises(InvalidInput, match="Choose at least one unit"):
        ship_paid(confirmed.number, "JJD-2")  # nothing allocated is left
    db.session.rollback()
    assert inventory.check_ledger() == []


def test_each_shipments_email_names_its_own_lots_and_what_is_still_to_come(app, confirmed):
    app.config["PUBLIC_BASE_URL"] = "https://shop.example.com"
    _ship(confirmed.number, Pick(0, 2), tracking="JJD-1")  # L-EARLY only
    _ship(confirmed.number, Pick(0, 3), tracking="JJD-2", carrier="UPS")  # L-LATE only
    drain()
    first, second = [m for m in outbox_mail() if "has shipped" in m.subject]
    assert first.subject == f"Order {confirmed.number}: shipment {confirmed.number}-S1 has shipped"
    assert "DHL Freight" in first.body and "JJD-1" in first.body
    assert "2 units of LEU-USP-25KG from lot L-EARLY" in first.body
    assert "https://shop.example.com/coa/L-EARLY" in first.body and "L-LATE" not in first.body
    assert "Still to come in later shipments:\n- 3 units of LEU-USP-25KG" in first.body
    assert "UPS" in second.body and "JJD-2" in second.body and "L-EARLY" not in second.body
    assert "3 units of LEU-USP-25KG from lot L-LATE" in second.body and "This completes your order." in second.body
    html = second.alternatives[0][0]
    assert 'href="https://shop.example.com/coa/L-LATE"' in html and "L-EARLY" not in html


def test_the_staff_ship_form_shows_errors_beside_its_fields_and_changes_nothing(confirmed, client):
    sign_in(client, "fulfilment")
    url = f"/staff/orders/{confirmed.number}/ship"
    page = client.get(f"/staff/orders/{confirmed.number}").text
    assert re.search(r'<input[^>]*id="units_0"[^>]*value="5"', page)  # everything allocated, by default
    assert "Earliest expiry first" in page and "L-LATE: 3 allocated" in page
    too_many = client.post(url, data={"units_0": "9", "lot_0": "", "tracking_reference": "JJD-1"})
    assert too_many.status_code == 422
    assert field_error(too_many.text, "units_0") == \
        "Only 5 units of LEU-USP-25KG are allocated and not shipped, not 9."
    negative = client.post(url, data={"units_0": "-1", "tracking_reference": "JJD-1"})
    assert field_error(negative.text, "units_0") == "Enter a whole number of units, 0 or more."
    words = client.post(url, data={"units_0": "two", "tracking_reference": "JJD-1"})
    assert words.status_code == 422 and field_error(words.text, "units_0")
    nothing = client.post(url, data={"units_0": "0", "tracking_reference": "JJD-1"})
    assert field_error(nothing.text, "units_0") == "Choose at least one unit to ship."
    foreign = client.post(url, data={"units_0": "1", "lot_0": "L-NONE", "tracking_reference": "JJD-1"})
    assert field_error(foreign.text, "lot_0") == \
        "LEU-USP-25KG has no units of lot L-NONE allocated and not shipped."
    untracked = client.post(url, data={"units_0": "1", "tracking_reference": " "})
    assert field_error(untracked.text, "tracking_reference")
    assert 'value="1"' in untracked.text  # what was typed is shown again
    assert _levels("L-EARLY") == (2, 2) and _levels("L-LATE") == (6, 3)
    assert ordering.get_order(confirmed.number).status == OrderStatus.CONFIRMED
    assert inventory.check_ledger() == []


def test_staff_ship_part_then_the_rest_and_read_both_packing_slips(confirmed, client):
    sign_in(client, "fulfilment")
    first = client.post(f"/staff/orders/{confirmed.number}/ship",
                        data={"units_0": "3", "lot_0": "L-LATE", "carrier": "DHL Freight",
                              "tracking_reference": "JJD-1"}, follow_redirects=True)
    assert (f"Shipment {confirmed.number}-S1 shipped (3 units); order {confirmed.number} is partially shipped."
            in text_of(first.text))
    assert _levels("L-LATE") == (3, 0) and _levels("L-EARLY") == (2, 2)
    page = text_of(first.text)
    assert f"{confirmed.number}-S1" in page and "LEU-USP-25KG: lot L-LATE × 3" in page
    assert f"Next shipment: {confirmed.number}-S2" in page
    # The order's own slip is now the pick list of the rest: the 3 units of S1 are not to pick again.
    rest = text_of(client.get(f"/staff/orders/{confirmed.number}/packing-slip").text)
    assert f"Packing slip · order {confirmed.number}, what is left to ship" in rest
    assert f"Shipped so far: {confirmed.number}-S1" in rest and "JJD-1" not in rest
    assert "L-EARLY" in rest and "L-LATE" not in rest and "Packages 2 Net weight 50 kg" in rest
    assert "3 units shipped already: not to pick again" in rest
    second = client.post(f"/staff/orders/{confirmed.number}/ship",
                         data={"units_0": "2", "carrier": "UPS", "tracking_reference": "JJD-2"},
                         follow_redirects=True)
    assert f"Order {confirmed.number} shipped. Shipment {confirmed.number}-S2: 2 units." in text_of(second.text)
    assert "Next shipment" not in text_of(second.text)
    record = text_of(client.get(f"/staff/orders/{confirmed.number}/packing-slip").text)
    assert "Everything of this order has shipped" in record and f"{confirmed.number}-S2" in record
    assert "this slip is the record of the whole order. Pick nothing from it." in record and "JJD-2" not in record
    slip = text_of(client.get(f"/staff/orders/{confirmed.number}/shipments/2/packing-slip").text)
    assert f"Packing slip · shipment {confirmed.number}-S2" in slip
    assert "L-EARLY" in slip and "L-LATE" not in slip and "UPS" in slip and "JJD-2" in slip
    assert "Packages 2 Net weight 50 kg" in slip
    first_slip = text_of(client.get(f"/staff/orders/{confirmed.number}/shipments/1/packing-slip").text)
    assert "L-LATE" in first_slip and "2 units of this line to follow in a later shipment." in first_slip
    assert client.get(f"/staff/orders/{confirmed.number}/shipments/3/packing-slip").status_code == 404
    assert inventory.check_ledger() == []


def test_the_buyers_order_page_lists_shipments_and_what_is_still_to_come(app, product, customer):
    confirmed = _backordered(product, customer, 1)
    _ship(confirmed.number, Pick(0, 2), tracking="JJD-1")
    buyer = app.test_client()
    buyer_sign_in(buyer, "buyer@example.com", "correct horse")
    page = text_of(buyer.get(f"/orders/{confirmed.number}").text)
    assert (f"Shipments Shipment Shipped Carrier Tracking Lines and lots {confirmed.number}-S1" in page)
    assert "DHL Freight JJD-1 2 units of LEU-USP-25KG, lot L-EARLY · CoA" in page
    assert ("Still to come Product Units to come Allocated, ships next Backordered "
            "L-Leucine USP, 25 kg LEU-USP-25KG 4 3 1 (waiting for the next lot)") in page
    assert f"Partially shipped — Shipment {confirmed.number}-S1: DHL Freight, tracking JJD-1" in page


def test_order_pages_cost_the_same_statements_with_one_shipment_or_three(app, client, product, customer):
    make_lot(product, "L-MANY", {DRUM: 10})
    one, three = place(customer, DRUM, 3), place(customer, DRUM, 3)
    for order in (one, three):
        ordering.confirm_order(order.number)
    db.session.commit()
    _ship(one.number, Pick(0, 1))
    for _ in range(3):
        _ship(three.number, Pick(0, 1))
    one, three = one.number, three.number
    sign_in(client, "fulfilment")
    assert page_statements(client, f"/staff/orders/{three}") == page_statements(client, f"/staff/orders/{one}")
    assert page_statements(client, f"/staff/orders/{three}/shipments/3/packing-slip") == \
        page_statements(client, f"/staff/orders/{one}/shipments/1/packing-slip")
    buyer = app.test_client()
    buyer_sign_in(buyer)
    assert page_statements(buyer, f"/orders/{three}") == page_statements(buyer, f"/orders/{one}")
