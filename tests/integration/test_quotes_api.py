"""Quotes through /api/v1/quotes: a buyer's ERP requests one, reads sales' answer (prices, held units), accepts it
into an order at those prices from the held lots (once, however often it retries) or declines it; bad input is 422
by field path with nothing stored, another company's quote is 404, and a quote no longer open is 409
`quote-not-open` whether or not the expiry job has run."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shop import sales
from shop.catalog import price_lists
from shop.catalog.models import Variant
from shop.platform.extensions import db
from shop.sales.models import Quote
from tests.support.api import ADDRESS, assert_problem, available, order_count
from tests.support.factories import make_staff

DRUM = "LEU-USP-25KG"
TUB = "LEU-USP-1KG"


def _request(api, lines=None, key=None, **fields):
    body = {"lines": lines or [{"sku": DRUM, "quantity": 8}], **fields}
    return api.post("/api/v1/quotes", json=body, key=key)


@pytest.fixture
def seller(app):
    return make_staff("sales")


def sales_answer(seller, number: str, prices: list[str], *, hold: bool = False, days: int = 14,
           note: str = "Our best price."):
    """Sales answer the quote (what the staff page calls), a price per line in the order of its lines."""
    quote = sales.get_quote(number)
    by_position = {line.position: price for line, price in zip(quote.lines, prices, strict=True)}
    sales.answer_quote(number, by_position, price_lists.today() + timedelta(days=days), note, hold, seller)
    db.session.commit()


def _quote_count() -> int:
    return db.session.scalar(select(func.count(Quote.id)))


def test_a_quote_goes_from_request_to_an_order_at_the_quoted_prices_from_the_held_lots(api, stocked, seller):
    requested = _request(api, [{"sku": DRUM, "quantity": 8}, {"sku": TUB, "quantity": 5}],
                         key="q-1", min_remaining_shelf_life_days=100, needed_by="2099-01-31",
                         note="For the April run.")
    assert requested.status_code == 201, requested.get_json()
    quote = requested.get_json()
    number = quote["number"]
    assert requested.headers["Location"].endswith(f"/api/v1/quotes/{number}")
    assert quote["status"] == "requested" and quote["order"] is None and quote["valid_until"] is None
    assert [(ln["sku"], ln["quantity"], ln["unit_price"], ln["held_quantity"]) for ln in quote["lines"]] == [
        (DRUM, 8, None, 0), (TUB, 5, None, 0)]
    assert quote["needed_by"] == "2099-01-31" and quote["note"] == "For the April run."
    assert available(api, DRUM) == 16

    sales_answer(seller, number, ["1800.00", "90.50"], hold=True)
    answered = api.get(f"/api/v1/quotes/{number}").get_json()
    assert answered["status"] == "answered" and answered["hold"] is True
    assert [(ln["unit_price"], ln["line_total"], ln["held_quantity"]) for ln in answered["lines"]] == [
        ("1800.00", "14400.00", 8), ("90.50", "452.50", 5)]
    assert available(api, DRUM) == 8  # the held drums are nobody else's now
    # The six drums of the sooner lot and two of the later one, first-expired-first-out.
    held_lots = {h.stock.batch.lot_number: h.quantity for h in sales.get_quote(number).lines[0].holds}
    assert held_lots == {"L-SOON": 6, "L-LATE": 2}

    accepted = api.post(f"/api/v1/quotes/{number}/accept", json={"shipping_address": ADDRESS,
                                                                 "purchase_order": "PO-9"}, key="accept-1")
    assert accepted.status_code == 201, accepted.get_json()
    order = accepted.get_json()
    assert accepted.headers["Location"].endswith(f"/api/v1/orders/{order['number']}")
    assert order["purchase_order"] == "PO-9"
    drums, tubs = order["lines"]
    assert (drums["sku"], drums["quantity"], drums["unit_price"]) == (DRUM, 8, "1800.00")
    assert {a["lot_number"]: a["quantity"] for a in drums["allocations"]} == held_lots
    assert (tubs["unit_price"], tubs["line_total"]) == ("90.50", "452.50")
    assert api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "accepted"
    assert api.get(f"/api/v1/quotes/{number}").get_json()["order"] == order["number"]
    assert available(api, DRUM) == 8  # the held units became the order's, not released and taken again

    again = api.post(f"/api/v1/quotes/{number}/accept", json={"shipping_address": ADDRESS, "purchase_order": "PO-9"},
                     key="accept-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["number"] == order["number"] and order_count() == 1


def test_a_replayed_request_makes_one_quote(api, stocked):
    first = _request(api, key="same")
    second = _request(api, key="same")
    assert second.status_code == 201 and second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json()["number"] == first.get_json()["number"] and _quote_count() == 1


@pytest.mark.parametrize(("body", "path"), [
    ({"lines": [{"sku": "LEU-NOPE-25KG", "quantity": 1}]}, "lines.0.sku"),
    ({"lines": [{"sku": DRUM, "quantity": 0}]}, "lines.0.quantity"),
    ({"lines": [{"sku": DRUM, "quantity": -3}]}, "lines.0.quantity"),
    ({"lines": [{"sku": DRUM, "quantity": 2}, {"sku": DRUM, "quantity": 1}]}, "lines.1.sku"),
    ({"lines": []}, "lines"),
    ({"lines": [{"sku": DRUM, "quantity": 1}], "needed_by": "2001-01-01"}, "needed_by"),
    ({"lines": [{"sku": DRUM, "quantity": 1}], "needed_by": "next week"}, "needed_by"),
    ({"lines": [{"sku": DRUM, "quantity": 1}], "note": "x" * 2001}, "note"),
    ({"lines": [{"sku": DRUM, "quantity": 1}], "min_remaining_shelf_life_days": -1}, "min_remaining_shelf_life_days"),
])
def test_a_bad_request_is_422_by_field_path_and_stores_nothing(api, stocked, body, path):
    answer = api.post("/api/v1/quotes", json=body, headers={"Idempotency-Key": "bad"})
    problem = assert_problem(answer, 422, "validation-error")
    assert path in problem["errors"], problem
    assert _quote_count() == 0
    assert _request(api, key="bad").status_code == 201  # a refused request's key may be used again


def test_the_list_is_newest_first_and_only_the_companys(api, rival, stocked):
    numbers = [_request(api).get_json()["number"] for _ in range(3)]
    _request(rival)
    listed = api.every_page("/api/v1/quotes", limit=2)
    assert [q["number"] for q in listed] == numbers[::-1]
    first = api.get("/api/v1/quotes", query_string={"limit": 2}).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert_problem(api.get("/api/v1/quotes", query_string={"cursor": "damaged"}), 422, "validation-error")


def test_another_companys_quote_is_404_to_read_accept_and_decline(api, rival, stocked, seller):
    number = _request(rival).get_json()["number"]
    sales_answer(seller, number, ["1800.00"], hold=True)
    assert_problem(api.get(f"/api/v1/quotes/{number}"), 404, "not-found")
    assert_problem(api.post(f"/api/v1/quotes/{number}/accept", json={"shipping_address": ADDRESS}), 404, "not-found")
    assert_problem(api.post(f"/api/v1/quotes/{number}/decline", json={}), 404, "not-found")
    assert rival.get(f"/api/v1/quotes/{number}").get_json()["status"] == "answered"
    assert order_count() == 0


def test_a_quote_not_answered_yet_cannot_be_accepted_or_declined(api, stocked):
    number = _request(api).get_json()["number"]
    answer = api.post(f"/api/v1/quotes/{number}/accept", json={"shipping_address": ADDRESS})
    assert_problem(answer, 409, "quote-not-open")
    assert order_count() == 0
    declined = assert_problem(api.post(f"/api/v1/quotes/{number}/decline", json={}), 409, "quote-not-open")
    assert declined["detail"] == f"Quote {number} is not answered yet: it cannot be declined."
    assert api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "requested"


def test_a_quote_past_its_last_day_is_not_open_though_no_job_expired_it(api, stocked, seller):
    number = _request(api).get_json()["number"]
    sales_answer(seller, number, ["1800.00"], hold=True, days=0)  # valid through today
    quote = sales.get_quote(number)
    quote.valid_until = price_lists.today() - timedelta(days=1)  # as if that day passed: the job has not run
    db.session.commit()
    assert api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "answered"
    answer = api.post(f"/api/v1/quotes/{number}/accept", json={"shipping_address": ADDRESS}, key="late")
    assert_problem(answer, 409, "quote-not-open")
    assert order_count() == 0
    declined = assert_problem(api.post(f"/api/v1/quotes/{number}/decline", json={}, key="late-no"), 409,
                              "quote-not-open")
    assert declined["detail"] == (f"Quote {number} was valid until {quote.valid_until.isoformat()}: it cannot be "
                                  "declined.")
    assert api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "answered"  # the expiry job closes it


def test_accepting_with_a_bad_address_is_422_and_places_nothing(api, stocked, seller):
    number = _request(api).get_json()["number"]
    sales_answer(seller, number, ["1800.00"], hold=True)
    answer = api.post(f"/api/v1/quotes/{number}/accept",
                      json={"shipping_address": {**ADDRESS, "country": "XX"}, "purchase_order": "PO"})
    problem = assert_problem(answer, 422, "validation-error")
    assert "shipping_address.country" in problem["errors"]
    assert order_count() == 0 and api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "answered"


def test_declining_gives_the_held_units_back_and_ends_the_quote(api, stocked, seller):
    number = _request(api).get_json()["number"]
    sales_answer(seller, number, ["1800.00"], hold=True)
    assert available(api, DRUM) == 8
    declined = api.post(f"/api/v1/quotes/{number}/decline", json={})
    assert declined.status_code == 200, declined.get_json()
    body = declined.get_json()
    assert body["status"] == "declined" and body["lines"][0]["held_quantity"] == 0
    assert available(api, DRUM) == 16
    assert api.post(f"/api/v1/quotes/{number}/decline").status_code == 409
    assert_problem(api.post(f"/api/v1/quotes/{number}/accept", json={"shipping_address": ADDRESS}), 409,
                   "quote-not-open")


def test_unheld_units_short_at_acceptance_are_409_insufficient_stock(api, rival, stocked, seller):
    number = _request(api, [{"sku": DRUM, "quantity": 16}]).get_json()["number"]
    sales_answer(seller, number, ["1800.00"])  # priced, not held
    assert rival.order([{"sku": DRUM, "quantity": 10}]).status_code == 201
    answer = api.post(f"/api/v1/quotes/{number}/accept", json={"shipping_address": ADDRESS})
    problem = assert_problem(answer, 409, "insufficient-stock")
    assert problem["short_lines"] == [{"sku": DRUM, "requested": 16, "available": 6}]
    assert api.get(f"/api/v1/quotes/{number}").get_json()["status"] == "answered"


def test_a_quantity_below_the_pack_sizes_minimum_order_is_refused_as_an_order_would_be(api, stocked):
    """A quote below the minimum could be answered and then never accepted (its order would be refused): 422 beside
    the line's quantity, with the order's own words, nothing stored."""
    db.session.execute(update(Variant).where(Variant.sku == DRUM).values(min_order_quantity=2))
    db.session.commit()
    answer = api.post("/api/v1/quotes", json={"lines": [{"sku": DRUM, "quantity": 1}]})
    problem = assert_problem(answer, 422, "validation-error")
    assert problem["errors"] == {"lines.0.quantity": [f"The minimum order for {DRUM} is 2 units."]}
    assert _quote_count() == 0
    assert api.post("/api/v1/quotes", json={"lines": [{"sku": DRUM, "quantity": 2}]}).status_code == 201
