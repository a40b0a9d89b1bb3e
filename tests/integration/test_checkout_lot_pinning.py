"""Checkout's lot choices: "ship each line from one lot", and per line "same lot as order …" offering the lots
of the company's earlier orders that still have stock of that pack size; what the order service says about a
chosen lot shows beside that line."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from shop import ordering
from shop.inventory.models import Batch
from shop.lab.models import CoaResult
from shop.ordering.models import Order
from shop.platform.extensions import db
from shop.specifications import service as specifications
from tests.support.factories import make_customer, make_lot, signed_recall
from tests.support.sql import count_statements
from tests.support.storefront import CHECKOUT_ADDRESS, field_error, sign_in

DRUM, BAG = "LEU-USP-25KG", "LEU-USP-1KG"
DRUM_LOT = f"lot-{DRUM}-lot_number"  # the id and name of the drum line's lot choice


def _order(customer, sku=DRUM, quantity=1, shelf=None) -> str:
    """An earlier order of `customer`; `shelf` (days) steers it past the lots that expire sooner (FEFO)."""
    order = ordering.place_order(customer, [{"sku": sku, "quantity": quantity}], {**CHECKOUT_ADDRESS}, "", shelf)
    db.session.commit()
    return order.number


def _fill_cart(client, sku=DRUM, quantity=2):
    client.post("/cart/add", data={"sku": sku, "quantity": str(quantity)})


def _token(page: str) -> str:
    return re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', page).group(1)


def _options(page: str, select_id: str) -> list[tuple[str, str]]:
    """(value, text) of each option of the select with this id."""
    select_ = re.search(rf'<select[^>]*id="{re.escape(select_id)}"[^>]*>(.*?)</select>', page, re.S)
    assert select_, f"no select #{select_id}"
    return [(html.unescape(v), html.unescape(t).strip())
            for v, t in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>(.*?)</option>', select_.group(1), re.S)]


def _chosen(page: str, select_id: str) -> str | None:
    select_ = re.search(rf'<select[^>]*id="{re.escape(select_id)}"[^>]*>(.*?)</select>', page, re.S)
    chosen = re.search(r'<option selected value="([^"]*)"', select_.group(1)) if select_ else None
    return html.unescape(chosen.group(1)) if chosen else None


def _checkout(client, page: str, **fields):
    return client.post("/checkout", data={**CHECKOUT_ADDRESS, "token": _token(page), **fields})


def _orders() -> int:
    count = db.session.scalar(select(func.count()).select_from(Order))
    db.session.rollback()
    return count


def _lots_of(number: str) -> list[tuple[str, int]]:
    order = ordering.get_order(number)
    lots = [(a.stock.batch.lot_number, a.quantity) for line in order.lines for a in line.allocations]
    db.session.rollback()
    return lots


def test_same_lot_choice_offers_only_this_companys_earlier_lots_still_in_stock(app, client, product, customer):
    rival = make_customer("rival@example.com", "Rival Pharma")
    # Each earlier order asks for a shelf life that skips the lots made before it, so it draws from the new one.
    make_lot(product, "L-THEIRS", {DRUM: 10}, expires_in_days=300)
    _order(rival)  # another company's lot: never offered to this one
    make_lot(product, "L-MINE", {DRUM: 10}, expires_in_days=700)
    mine = _order(customer, quantity=2, shelf=400)
    make_lot(product, "L-RECALLED", {DRUM: 10}, expires_in_days=500)
    _order(customer, shelf=450)
    make_lot(product, "L-SHORT", {DRUM: 10}, expires_in_days=600)
    _order(customer, shelf=550)
    make_lot(product, "L-BAGS", {BAG: 20, DRUM: 5}, expires_in_days=800)
    bags = _order(customer, sku=BAG, quantity=3, shelf=750)  # bags from it: its drums are offered too
    make_lot(product, "L-EMPTY", {DRUM: 2}, expires_in_days=850)
    _order(customer, quantity=2, shelf=820)  # drew every drum it had
    make_lot(product, "L-NEVER", {DRUM: 10}, expires_in_days=900)  # no order of theirs drew from it
    signed_recall("L-RECALLED", "Contaminated")
    db.session.execute(update(Batch).where(Batch.lot_number == "L-SHORT")
                       .values(expires_on=date.today() + timedelta(days=20)))  # now within the default shelf life
    db.session.commit()

    sign_in(client)
    _fill_cart(client)
    page = client.get("/checkout").text
    expires = {lot: (date.today() + timedelta(days=days)).isoformat() for lot, days in (("L-MINE", 700),
                                                                                       ("L-BAGS", 800))}
    assert _options(page, DRUM_LOT) == [
        ("", "Any lot (first expiry first)"),
        ("L-MINE", f"L-MINE (order {mine}, expires {expires['L-MINE']}, 8 units free)"),
        ("L-BAGS", f"L-BAGS (order {bags}, expires {expires['L-BAGS']}, 5 units free)"),
    ]
    assert f'<label for="{DRUM_LOT}">L-Leucine USP, 25 kg ({DRUM}): same lot as order …</label>' in page


def test_a_lot_outside_the_companys_specification_is_not_offered(app, client, product, customer):
    make_lot(product, "L-IRON-12", {DRUM: 10}, expires_in_days=400)  # the factory's results: iron 12 ppm
    _order(customer)
    make_lot(product, "L-IRON-8", {DRUM: 10}, expires_in_days=700)
    _order(customer, shelf=500)
    iron = next(t for t in product.spec_tests if t.name == "Iron")
    low = select(Batch.id).where(Batch.lot_number == "L-IRON-8").scalar_subquery()
    db.session.execute(update(CoaResult).where(CoaResult.batch_id == low, CoaResult.spec_test_id == iron.id)
                       .values(value="8", numeric_value=Decimal("8")))
    specifications.put_specification(customer.company_id, product.slug, [{"test": "Iron", "max": "10"}], "test")
    db.session.commit()
    sign_in(client)
    _fill_cart(client)
    offered = [value for value, _ in _options(client.get("/checkout").text, DRUM_LOT)]
    assert offered == ["", "L-IRON-8"]


def test_lines_without_earlier_lots_say_so_and_offer_the_one_lot_box(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 10})
    sign_in(client)
    _fill_cart(client)
    page = client.get("/checkout").text
    assert f'id="{DRUM_LOT}"' not in page
    assert "none of the lots your company's earlier orders drew from has these pack sizes in stock" in page
    assert re.search(r'<input[^>]*id="single_lot"[^>]*type="checkbox"', page)
    assert '<label for="single_lot">Ship each line from one lot</label>' in page


def test_the_lot_choices_of_every_line_cost_the_same_statements_as_of_one(app, client, backend, product, customer):
    make_lot(product, "L-1", {DRUM: 10, BAG: 10}, expires_in_days=400)
    _order(customer)
    _order(customer, sku=BAG)
    sign_in(client)
    _fill_cart(client)
    client.get("/checkout")
    with count_statements(fresh_session=True) as one_line:
        assert client.get("/checkout").status_code == 200
    _fill_cart(client, sku=BAG)
    with count_statements(fresh_session=True) as two_lines:
        page = client.get("/checkout").text
    assert [v for v, _ in _options(page, f"lot-{BAG}-lot_number")] == ["", "L-1"]
    assert len(two_lines) == len(one_line), "\n\n".join(two_lines)


def test_a_lot_number_too_long_is_said_beside_the_lines_choice_and_nothing_is_ordered(app, client, product,
                                                                                     customer):
    make_lot(product, "L-1", {DRUM: 10})
    sign_in(client)
    _fill_cart(client)
    answer = _checkout(client, client.get("/checkout").text, **{DRUM_LOT: "L" * 41})
    assert answer.status_code == 422
    assert field_error(answer.text, DRUM_LOT) == "Choose a lot from the list."
    assert _orders() == 0


def test_checkout_with_csrf_takes_the_lot_choice_and_the_one_lot_box(make_app, product, customer):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_lot(product, "L-1", {DRUM: 10}, expires_in_days=400)
        _order(customer)
    csrf = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
    sign_in(client, csrf_token=csrf.search(client.get("/sign-in").text).group(1))
    client.post("/cart/add", data={"sku": DRUM, "quantity": "1",
                                   "csrf_token": csrf.search(client.get("/products/l-leucine-usp").text).group(1)})
    page = client.get("/checkout").text
    assert _checkout(client, page, **{DRUM_LOT: "L-1", "single_lot": "y"}).status_code == 400  # no token
    placed = _checkout(client, page, **{DRUM_LOT: "L-1", "single_lot": "y", "csrf_token": csrf.search(page).group(1)})
    assert placed.status_code == 302 and "/confirmation" in placed.headers["Location"]


def test_placing_with_a_chosen_lot_draws_from_it_and_the_order_page_says_so(app, client, product, customer):
    make_lot(product, "L-LATE", {DRUM: 10}, expires_in_days=700)
    _order(customer)
    make_lot(product, "L-EARLY", {DRUM: 10}, expires_in_days=400)  # first expiry first would take this one
    sign_in(client)
    _fill_cart(client, quantity=3)
    answer = _checkout(client, client.get("/checkout").text, **{DRUM_LOT: "L-LATE"})
    assert answer.status_code == 302
    number = answer.headers["Location"].split("/")[2]
    assert _lots_of(number) == [("L-LATE", 3)]
    assert "Only from lot L-LATE, as you asked" in client.get(f"/orders/{number}").text


def test_ship_from_one_lot_never_splits_a_line_and_the_order_page_says_so(app, client, product, customer):
    make_lot(product, "L-SMALL", {DRUM: 3}, expires_in_days=400)
    make_lot(product, "L-BIG", {DRUM: 10}, expires_in_days=700)
    sign_in(client)
    _fill_cart(client, quantity=5)
    answer = _checkout(client, client.get("/checkout").text, single_lot="y")
    assert answer.status_code == 302
    number = answer.headers["Location"].split("/")[2]
    assert _lots_of(number) == [("L-BIG", 5)]
    assert "Ship from one lot" in client.get(f"/orders/{number}").text


def test_without_the_box_a_line_is_filled_first_expiry_first_across_lots(app, client, product, customer):
    make_lot(product, "L-SMALL", {DRUM: 3}, expires_in_days=400)
    make_lot(product, "L-BIG", {DRUM: 10}, expires_in_days=700)
    sign_in(client)
    _fill_cart(client, quantity=5)
    answer = _checkout(client, client.get("/checkout").text)
    number = answer.headers["Location"].split("/")[2]
    assert _lots_of(number) == [("L-SMALL", 3), ("L-BIG", 2)]
    page = client.get(f"/orders/{number}").text
    assert "Ship from one lot" not in page and "as you asked" not in page


def test_a_chosen_lot_taken_meanwhile_is_said_beside_the_line_and_nothing_is_ordered(app, client, product,
                                                                                    customer):
    make_lot(product, "L-MINE", {DRUM: 6}, expires_in_days=700)
    _order(customer)
    make_lot(product, "L-OTHER", {DRUM: 10}, expires_in_days=900)  # the line could be filled, but not from L-MINE
    sign_in(client)
    _fill_cart(client, quantity=4)
    page = client.get("/checkout").text
    _order(make_customer("rival@example.com", "Rival Pharma"), quantity=3)  # FEFO: leaves 2 in L-MINE
    answer = _checkout(client, page, **{DRUM_LOT: "L-MINE"})
    assert answer.status_code == 409
    assert "No order was placed" in answer.text
    assert "L-MINE" in field_error(answer.text, DRUM_LOT)
    assert re.search(rf'id="line-{DRUM}-problem">[^<]*L-MINE', answer.text)
    assert _chosen(answer.text, DRUM_LOT) == "L-MINE"
    assert _orders() == 2


def test_a_lot_that_is_not_sellable_is_said_beside_the_lines_choice(app, client, product, customer):
    make_lot(product, "L-1", {DRUM: 10})
    make_lot(product, "L-HELD", {DRUM: 10}, status="quarantine")
    sign_in(client)
    _fill_cart(client)
    answer = _checkout(client, client.get("/checkout").text, **{DRUM_LOT: "L-HELD"})
    assert answer.status_code == 422
    assert field_error(answer.text, DRUM_LOT)
    assert _chosen(answer.text, DRUM_LOT) == "L-HELD"
    assert _orders() == 0
