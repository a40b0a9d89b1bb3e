"""No stranded orders: a short order cannot be confirmed or shipped, shows what it misses, and fulfilment fills it
first-expired-first-out in one action, allocates a lot by hand, or cancels the missing units; the ledger balances."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shop import ordering
from shop.accounts import people as accounts
from shop.catalog.models import Product
from shop.inventory import lots as inventory
from shop.ordering import shortages
from shop.ordering.models import Order, OrderStatus
from shop.platform.errors import IllegalTransition
from shop.platform.extensions import db
from tests.support.billing import pay_in_full, ship_paid
from tests.support.factories import make_customer, make_lot, recall_leaving_short
from tests.support.sql import count_statements
from tests.support.staff import ADDRESS, place, sign_in, text_of  # noqa: F401
from tests.support.storefront import sign_in as buyer_sign_in

pytestmark = pytest.mark.usefixtures("staff_clients")
DRUM = "LEU-USP-25KG"


def _short_order(product, customer, *, confirmed: bool = False) -> Order:
    """A 6-drum order whose lot is recalled with nothing to replace it: short by 6."""
    make_lot(product, "L-BAD", {DRUM: 6}, expires_in_days=400)
    order = place(customer, DRUM, 6)
    if confirmed:
        ordering.confirm_order(order.number)
        db.session.commit()
    recall_leaving_short("L-BAD", "Foreign particles")
    db.session.commit()
    db.session.expire_all()
    return order


def _allocations(number: str) -> list[tuple[str, int, str]]:
    db.session.expire_all()
    order = ordering.get_order(number)
    return [(a.stock.batch.lot_number, a.quantity, a.status.value) for line in order.lines for a in line.allocations]


def test_a_short_order_cannot_be_confirmed_and_says_exactly_what_it_misses(app, product, customer):
    order = _short_order(product, customer)
    with pytest.raises(IllegalTransition) as refused:
        ordering.confirm_order(order.number)
    assert str(refused.value) == (f"Order {order.number} cannot be confirmed while it is short: LEU-USP-25KG misses "
                                  "6 of 6 units. Allocate the missing units, cancel them, or cancel the order.")
    db.session.rollback()
    assert db.session.get(Order, order.id).status == OrderStatus.PENDING


def test_a_short_confirmed_order_cannot_be_shipped(app, client, product, customer):
    order = _short_order(product, customer, confirmed=True)
    with pytest.raises(IllegalTransition, match="cannot be shipped while it is short: LEU-USP-25KG misses 6 of 6"):
        ship_paid(order.number, "DHL-1")
    db.session.rollback()
    sign_in(client, "fulfilment")
    page = client.post(f"/staff/orders/{order.number}/ship", data={"tracking_reference": "DHL-1"},
                       follow_redirects=True)
    assert "cannot be shipped while it is short" in text_of(page.text)
    assert db.session.get(Order, order.id).status == OrderStatus.CONFIRMED
    assert inventory.check_ledger() == []


def test_the_order_page_shows_what_is_missing_and_offers_no_confirm(app, client, product, customer):
    order = _short_order(product, customer)
    sign_in(client, "fulfilment")
    page = client.get(f"/staff/orders/{order.number}").text
    text = text_of(page)
    assert ("Short: this order cannot be confirmed or shipped Line To deliver Allocated Missing Allocate by hand "
            "LEU-USP-25KG 6 0 6 no released lot with free units has more than 90 days of shelf life left") in text
    assert "Confirm order" not in text
    assert "Allocate missing units" in text and "Cancel the missing units" in text
    assert 'value="Cancel order…"' in page and "Confirm order" not in page  # cancelling asks to confirm first
    assert "L-BAD × 6 returned to stock (lot recalled)" in text


def test_one_click_allocate_fills_a_short_order_first_expired_first_out_and_the_ledger_balances(app, client, runner,
                                                                                                product, customer):
    order = _short_order(product, customer)
    make_lot(product, "L-LATE", {DRUM: 10}, expires_in_days=900)
    make_lot(product, "L-SOON", {DRUM: 4}, expires_in_days=500)
    make_lot(product, "L-TOO-SOON", {DRUM: 10}, expires_in_days=30)  # under the 90-day default shelf life
    make_lot(product, "L-ASK", {DRUM: 10}, expires_in_days=450)
    inventory.set_on_request("L-ASK", True)  # never picked first-expired-first-out
    db.session.commit()
    sign_in(client, "fulfilment")
    page = client.post(f"/staff/orders/{order.number}/fill", follow_redirects=True)
    assert (f"Order {order.number}: allocated 4 × LEU-USP-25KG from lot L-SOON; 2 × LEU-USP-25KG from lot L-LATE. "
            "It is no longer short.") in text_of(page.text)
    assert _allocations(order.number) == [("L-BAD", 6, "returned_recalled"), ("L-SOON", 4, "allocated"),
                                          ("L-LATE", 2, "allocated")]
    assert inventory.check_ledger() == []
    assert runner.invoke(args=["shop", "check-ledger"]).exit_code == 0
    refreshed = db.session.get(Order, order.id)
    assert refreshed.needs_attention is False
    assert refreshed.history[-1].note == ("Missing units allocated from released stock (first-expired-first-out): "
                                          "LEU-USP-25KG 4 from lot L-SOON; LEU-USP-25KG 2 from lot L-LATE")
    ordering.confirm_order(order.number)
    ship_paid(order.number, "DHL-2")
    db.session.commit()
    assert inventory.check_ledger() == []


def test_one_click_allocate_takes_what_there_is_and_says_what_is_still_missing(app, product, customer):
    order = _short_order(product, customer)
    make_lot(product, "L-FEW", {DRUM: 2})
    filled = shortages.fill_short_order(order.number)
    db.session.commit()
    assert filled.allocated == [(DRUM, "L-FEW", 2)]
    assert [str(s) for s in filled.still_short] == ["LEU-USP-25KG misses 4 of 6 units"]
    assert inventory.check_ledger() == []


def test_one_click_allocate_with_no_fitting_stock_changes_nothing(app, product, customer):
    order = _short_order(product, customer)
    make_lot(product, "L-OLD", {DRUM: 10}, expires_in_days=20)  # too short-dated for the order
    with pytest.raises(IllegalTransition, match="No released stock can fill order"):
        shortages.fill_short_order(order.number)
    db.session.rollback()
    assert _allocations(order.number) == [("L-BAD", 6, "returned_recalled")]


def test_cancelling_the_missing_units_lets_the_order_go_ahead_with_what_it_holds(app, client, product, customer):
    make_lot(product, "L-BAD", {DRUM: 4}, expires_in_days=300)
    make_lot(product, "L-OK", {DRUM: 2}, expires_in_days=800)
    order = place(customer, DRUM, 6)  # 4 from L-BAD, 2 from L-OK
    recall_leaving_short("L-BAD", "Foreign particles")
    db.session.commit()
    sign_in(client, "fulfilment")
    page = client.post(f"/staff/orders/{order.number}/cancel-short", follow_redirects=True)
    assert "the missing units are cancelled" in page.text
    db.session.expire_all()
    line = db.session.get(Order, order.id).lines[0]
    assert (line.quantity, line.cancelled_quantity, str(line.line_total)) == (6, 4, "3700.00")
    assert str(db.session.get(Order, order.id).total) == "4403.00"  # 2 x 1850 and 19 % VAT on it
    client.post(f"/staff/orders/{order.number}/confirm")
    pay_in_full(order.number)
    client.post(f"/staff/orders/{order.number}/ship", data={"tracking_reference": "UPS-1"})
    assert db.session.get(Order, order.id).status == OrderStatus.SHIPPED
    assert inventory.check_ledger() == []
    key = accounts.create_api_key(customer)
    db.session.commit()
    api = client.get(f"/api/v1/orders/{order.number}", headers={"Authorization": f"Bearer {key}"}).get_json()
    line = api["lines"][0]
    assert (line["quantity"], line["cancelled_quantity"], api["subtotal"], api["total"]) == (6, 4, "3700.00", "4403.00")


def test_cancelling_every_missing_unit_of_an_empty_order_is_refused_cancel_the_order_instead(app, product,
                                                                                            customer):
    order = _short_order(product, customer)
    with pytest.raises(IllegalTransition, match="cancel the order instead"):
        shortages.cancel_short_units(order.number)
    db.session.rollback()
    ordering.cancel_order(order.number)
    db.session.commit()
    assert inventory.check_ledger() == []


def test_fulfilment_allocates_a_lot_sold_on_request_by_hand_recorded_in_the_history(app, client, product, customer):
    order = _short_order(product, customer)
    make_lot(product, "L-ASK", {DRUM: 10}, expires_in_days=450)
    inventory.set_on_request("L-ASK", True)
    db.session.commit()
    staff = sign_in(client, "fulfilment")
    page = client.get(f"/staff/orders/{order.number}").text
    assert "L-ASK: 10 free, Expiry " in page and "(sold only on request)" in page
    done = client.post(f"/staff/orders/{order.number}/allocate", data={"position": "0", "lot_number": "l-ask",
                                                                       "quantity": "6"}, follow_redirects=True)
    assert f"Order {order.number}: allocated by hand." in done.text
    assert _allocations(order.number)[-1] == ("L-ASK", 6, "allocated")
    note = db.session.get(Order, order.id).history[-1]
    assert (note.staff_id, note.note) == (staff.id, "Allocated by hand: LEU-USP-25KG 6 units from lot L-ASK (sold "
                                                    "only on request)")
    assert inventory.check_ledger() == []
    too_many = client.post(f"/staff/orders/{order.number}/allocate", data={"position": "0", "lot_number": "L-ASK",
                                                                           "quantity": "1"}, follow_redirects=True)
    assert "is not short" in too_many.text


def test_a_released_lot_lists_the_short_orders_it_can_serve_with_a_one_click_allocate(app, client, product, customer):
    order = _short_order(product, customer)
    other = _other_short(product)
    make_lot(product, "USP-NEW", {DRUM: 20})
    sign_in(client, "fulfilment")
    lot_page = text_of(client.get("/staff/batches/USP-NEW").text)
    assert ("Short orders of this lot's pack sizes 2 Order Placed Customer Status Missing Can be allocated now "
            f"From this lot Action {order.number} ") in lot_page
    assert (f"Acme Nutrition pending LEU-USP-25KG: 6 of 6 units 6 of 6 6 Allocate missing units to order "
            f"{order.number} {other.number}") in lot_page
    listing = text_of(client.get("/staff/orders/short").text)
    assert listing.index(order.number) < listing.index(other.number)  # oldest first
    back = client.post(f"/staff/orders/{order.number}/fill", data={"next": "/staff/batches/USP-NEW"})
    assert back.headers["Location"] == "/staff/batches/USP-NEW"
    after = text_of(client.get("/staff/batches/USP-NEW").text)
    assert "Short orders of this lot's pack sizes 1" in after and order.number not in after.split("sizes 1")[1]
    assert inventory.check_ledger() == []


def test_a_lot_page_says_what_that_lot_alone_can_give_each_short_order_of_its_pack_sizes(app, client, product,
                                                                                        customer):
    make_lot(product, "L-PIN", {DRUM: 4}, expires_in_days=400)
    pinned = ordering.place_order(customer, [{"sku": DRUM, "quantity": 4, "lot_number": "L-PIN"}], ADDRESS)
    db.session.commit()
    recall_leaving_short("L-PIN", "Foreign particles")
    db.session.commit()
    long_lived = _other_short(product, min_days=500)  # short by 2, wants 500 days of shelf life
    make_lot(product, "USP-SOON", {DRUM: 20}, expires_in_days=300)
    make_lot(product, "USP-LATER", {DRUM: 20}, expires_in_days=600)
    sign_in(client, "fulfilment")
    soon = text_of(client.get("/staff/batches/USP-SOON").text)
    assert "Short orders of this lot's pack sizes 2 " in soon
    # Pinned to the recalled lot: nothing from any lot, and no button that would fail.
    assert (f"{pinned.number} {pinned.placed_at:%Y-%m-%d %H:%M} UTC Acme Nutrition pending LEU-USP-25KG: 4 of 4 units "
            "0 of 4 0 no released stock fits") in soon
    # The later lot can fill the other; this one expires too soon for it.
    assert "Second Ltd pending LEU-USP-25KG: 2 of 2 units 2 of 2 0 Allocate missing units" in soon
    later = text_of(client.get("/staff/batches/USP-LATER").text)
    assert "Second Ltd pending LEU-USP-25KG: 2 of 2 units 2 of 2 2 Allocate missing units" in later
    assert long_lived.number in later


def _other_short(product, min_days: int | None = None):
    make_lot(product, "L-BAD2", {DRUM: 2}, expires_in_days=700)
    order = place(make_customer("second@example.com", "Second Ltd"), DRUM, 2, min_days=min_days)
    recall_leaving_short("L-BAD2", "Moisture")
    db.session.commit()
    return order


def test_short_orders_are_found_in_a_fixed_number_of_statements(app, client, product, customer):
    from tests.support.staff import page_statements

    _short_order(product, customer)
    sign_in(client, "fulfilment")
    one = page_statements(client, "/staff/orders/short")
    product = db.session.scalar(select(Product))
    for i in range(4):
        make_lot(product, f"L-X{i}", {DRUM: 2}, expires_in_days=400)
        place(make_customer(f"c{i}@example.com", f"C{i}"), DRUM, 2)
        recall_leaving_short(f"L-X{i}", "x")
        db.session.commit()
    assert page_statements(client, "/staff/orders/short") == one
    assert db.session.scalar(select(Order.id).where(Order.needs_attention.is_(False))) is None


def test_allocating_a_short_order_reads_no_more_statements_for_more_recalled_lots(app, product, customer):
    """The message that says which recall left an order short ('since lots ... were recalled') reads the lots with
    the order: an order drawn from three recalled lots costs the reads of one drawn from one."""
    make_lot(product, "L-ONE", {DRUM: 6}, expires_in_days=300)
    one = place(customer, DRUM, 6)
    for n, days in enumerate((400, 500, 600)):
        make_lot(product, f"L-PART{n}", {DRUM: 2}, expires_in_days=days)
    three = place(customer, DRUM, 6)
    for lot in ("L-ONE", "L-PART0", "L-PART1", "L-PART2"):
        recall_leaving_short(lot, "Foreign particles")
        db.session.commit()
    make_lot(product, "L-NEW", {DRUM: 12}, expires_in_days=900)
    reads = {}
    for order in (one, three):
        number = order.number
        with count_statements(fresh_session=True) as seen:
            shortages.fill_short_order(number)
            db.session.commit()
        reads[number] = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert {lot for lot, _, status in _allocations(three.number) if status == "returned_recalled"} == {
        "L-PART0", "L-PART1", "L-PART2"}
    assert len(reads[three.number]) == len(reads[one.number]), "\n".join(reads[three.number])


def test_a_line_pinned_to_a_recalled_lot_is_short_because_of_the_pin_and_says_so(app, client, product, customer):
    """Other lots have units with shelf life to spare, but the buyer ordered the line from the recalled lot only:
    that is why nothing fills it, not the shelf life."""
    make_lot(product, "L-PINNED", {DRUM: 4}, expires_in_days=400)
    make_lot(product, "L-OTHER", {DRUM: 10}, expires_in_days=500)
    order = ordering.place_order(customer, [{"sku": DRUM, "quantity": 2, "lot_number": "L-PINNED"}],
                                 {"name": "Goods In", "line1": "Hafenstrasse 1", "city": "Hamburg",
                                  "postal_code": "20457", "country": "DE"})
    db.session.commit()
    recall_leaving_short("L-PINNED", "Foreign particles")
    db.session.commit()
    with pytest.raises(IllegalTransition) as refused:
        shortages.fill_short_order(order.number)
    db.session.rollback()
    assert ("LEU-USP-25KG misses 2 of 2 units (the buyer ordered it from lot L-PINNED only, which has no released "
            "units free)") in refused.value.message
    sign_in(client, "fulfilment")
    page = text_of(client.get(f"/staff/orders/{order.number}").text)
    assert "LEU-USP-25KG 2 0 2 the buyer ordered it from lot L-PINNED only, which has no released units free" in page
    buyer = client.application.test_client()  # the buyer is not promised a lot that may never come
    buyer_sign_in(buyer, customer.email)
    mine = text_of(buyer.get(f"/orders/{order.number}").text)
    assert ("A line you ordered from one lot only cannot be filled from another lot: we contact you about it."
            in mine) and "as soon as a lot is released" not in mine
