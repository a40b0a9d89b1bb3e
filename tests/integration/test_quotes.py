"""A quote's life through the sales services: requested, answered (prices, last day), accepted into an order at the
quoted prices, or declined, withdrawn, expired; each refusal by field path with nothing stored; the buyer told."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop import sales
from shop.ordering.models import Order
from shop.platform.errors import IllegalTransition, InvalidInput, NotFound, QuoteNotOpen
from shop.platform.extensions import db
from shop.sales.models import Quote
from tests.support.api import ADDRESS
from tests.support.factories import make_customer, make_staff
from tests.support.mail import drain, outbox_mail

DRUM, TUB = "LEU-USP-25KG", "LEU-USP-1KG"


@pytest.fixture
def buyer(app):
    return make_customer()


@pytest.fixture
def seller(app):
    return make_staff("sales")


def ask(buyer, lines=None, key=None, **fields):
    lines = [{"sku": DRUM, "quantity": 4}] if lines is None else lines
    return sales.request_quote(sales.RequestQuote(buyer, lines, **fields),
                               idempotency_key=key)


def answered(buyer, seller, price="1500.00", *, hold=False, days=14, lines=None):
    number = ask(buyer, lines).quote["number"]
    quote = sales.answer_quote(number, {i: price for i in range(len(lines or [1]))},
                               date.today() + timedelta(days=days), "Two weeks.", hold, seller)
    db.session.commit()
    return quote.number


def test_a_request_gets_a_yearly_number_and_shows_what_was_asked(stocked, buyer):
    today = date.today()
    first = ask(buyer, min_remaining_shelf_life_days=120, needed_by=(today + timedelta(days=30)).isoformat(),
                note="For the spring batch").quote
    second = ask(buyer).quote
    assert first["number"] == f"Q-{today.year}-00001" and second["number"] == f"Q-{today.year}-00002"
    assert first["status"] == "requested" and first["valid_until"] is None and first["order"] is None
    assert first["lines"] == [{"sku": DRUM, "quantity": 4, "unit_price": None, "line_total": None,
                               "held_quantity": 0}]
    assert first["min_remaining_shelf_life_days"] == 120 and first["note"] == "For the spring batch"
    assert first["needed_by"] == (today + timedelta(days=30)).isoformat()


def test_bad_requests_are_refused_by_field_and_store_nothing(stocked, buyer):
    with pytest.raises(InvalidInput) as refused:
        ask(buyer, [{"sku": "NOPE", "quantity": 1}, {"sku": DRUM, "quantity": 0}, {"sku": DRUM, "quantity": 2}],
            needed_by=(date.today() - timedelta(days=1)).isoformat(), note="x" * 2001)
    assert set(refused.value.errors) == {"lines.0.sku", "lines.1.quantity", "lines.2.sku", "needed_by", "note"}
    with pytest.raises(InvalidInput) as empty:
        ask(buyer, [], needed_by="next week")
    assert set(empty.value.errors) == {"lines", "needed_by"}
    assert db.session.scalar(select(func.count(Quote.id))) == 0


def test_a_replayed_request_answers_the_same_quote(stocked, buyer):
    first = ask(buyer, key="q-1")
    again = ask(buyer, key="q-1")
    assert again.replayed and again.quote["number"] == first.quote["number"]
    assert db.session.scalar(select(func.count(Quote.id))) == 1


def test_the_answer_is_announced_and_mailed_with_prices_and_last_day(stocked, buyer, seller):
    number = answered(buyer, seller, "1450.5")
    quote = sales.quote(sales.get_quote(number, buyer.company_id))
    assert quote["status"] == "answered" and quote["valid_until"] == (date.today() + timedelta(days=14)).isoformat()
    assert quote["lines"][0]["unit_price"] == "1450.50" and quote["lines"][0]["line_total"] == "5802.00"
    drain()
    mail = [m for m in outbox_mail() if m.subject == f"Quote {number} answered"]
    assert mail and mail[0].to == [buyer.email]
    body = " ".join(mail[0].body.split())  # written as the pages write units and money
    assert "LEU-USP-25KG: 4 units at 1,450.50 EUR = 5,802.00 EUR" in body, body
    assert "Total: 5,802.00 EUR, excluding VAT and shipping" in body and "unit(s)" not in body


@pytest.mark.parametrize(("price", "day"), [("1,500", 1), ("1e3", 1), ("0", 1), ("-5", 1), (1500.0, 1),
                                            ("12.345", 1), ("100", -1)])
def test_a_bad_answer_is_refused_by_field_and_changes_nothing(stocked, buyer, seller, price, day):
    number = ask(buyer).quote["number"]
    with pytest.raises(InvalidInput) as refused:
        sales.answer_quote(number, {0: price}, date.today() + timedelta(days=day), "", False, seller)
    assert set(refused.value.errors) <= {"lines.0.unit_price", "valid_until"} and refused.value.errors
    db.session.rollback()
    assert sales.get_quote(number).status == "requested"


def test_only_a_requested_quote_is_answered(stocked, buyer, seller):
    number = answered(buyer, seller)
    with pytest.raises(IllegalTransition):
        sales.answer_quote(number, {0: "1"}, date.today(), "", False, seller)


def test_accepting_places_the_order_at_the_quoted_price_once(stocked, buyer, seller):
    number = answered(buyer, seller, "999.99")
    placed = sales.accept_quote(number, buyer, ADDRESS, "PO-7", idempotency_key="accept-1")
    again = sales.accept_quote(number, buyer, ADDRESS, "PO-7", idempotency_key="accept-1")
    assert again.replayed and again.number == placed.number
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert placed.order["lines"][0]["unit_price"] == "999.99" and placed.order["purchase_order"] == "PO-7"
    quote = sales.quote(sales.get_quote(number))
    assert quote["status"] == "accepted" and quote["order"] == placed.number
    order = db.session.scalar(select(Order).where(Order.number == placed.number))
    assert order.history[0].note == f"Order placed from quote {number}"
    with pytest.raises(QuoteNotOpen):
        sales.accept_quote(number, buyer, ADDRESS, idempotency_key="accept-2")


def test_acceptance_after_the_last_day_is_refused_without_the_job(stocked, buyer, seller):
    number = answered(buyer, seller, days=0)
    db.session.execute(Quote.__table__.update().values(valid_until=date.today() - timedelta(days=1)))
    db.session.commit()
    with pytest.raises(QuoteNotOpen):
        sales.accept_quote(number, buyer, ADDRESS)
    assert db.session.scalar(select(func.count(Order.id))) == 0
    assert sales.get_quote(number).status == "answered"  # the job has not run


def test_another_companys_quote_is_not_found(stocked, buyer, seller):
    number = answered(buyer, seller)
    rival = make_customer("buyer@rival.example", "Rival Labs")
    with pytest.raises(NotFound):
        sales.accept_quote(number, rival, ADDRESS)
    with pytest.raises(NotFound):
        sales.decline_quote(number, rival)


def test_declined_and_withdrawn_quotes_are_closed(stocked, buyer, seller):
    declined = answered(buyer, seller)
    sales.decline_quote(declined, buyer)
    withdrawn = ask(buyer).quote["number"]
    sales.withdraw_quote(withdrawn, seller, "Grade discontinued.")
    db.session.commit()
    assert sales.get_quote(declined).status == "declined" and sales.get_quote(withdrawn).status == "withdrawn"
    with pytest.raises(QuoteNotOpen):
        sales.decline_quote(declined, buyer)
    with pytest.raises(QuoteNotOpen):
        sales.accept_quote(withdrawn, buyer, ADDRESS)
    drain()
    assert any(m.subject == f"Quote {withdrawn} withdrawn" and "Grade discontinued." in m.body
               for m in outbox_mail())


def test_the_job_expires_answered_quotes_after_their_last_day(stocked, buyer, seller):
    late = answered(buyer, seller, days=0)
    current = answered(buyer, seller, days=3)
    today = date.today()
    assert sales.expire_quotes(today) == []
    assert sales.expire_quotes(today + timedelta(days=1)) == [late]
    assert sales.get_quote(late).status == "expired" and sales.get_quote(current).status == "answered"
    drain()
    assert any(m.subject == f"Quote {late} expired" for m in outbox_mail())


def test_lists_newest_first_and_the_queue_requested_first(stocked, buyer, seller):
    numbers = [ask(buyer).quote["number"] for _ in range(3)]
    sales.answer_quote(numbers[0], {0: "10"}, date.today(), "", False, seller)
    db.session.commit()
    page = sales.list_quotes(buyer.company_id, 2)
    rest = sales.list_quotes(buyer.company_id, 2, page.next_cursor)
    assert [q.number for q in page.rows + rest.rows] == numbers[::-1] and rest.next_cursor is None
    queue = sales.sales_queue(2)
    tail = sales.sales_queue(2, queue.next_cursor)
    assert [e.quote.number for e in queue.rows + tail.rows] == [numbers[1], numbers[2], numbers[0]]
    assert queue.rows[0].company == "Acme Nutrition" and queue.rows[0].lines[0].list_price > Decimal("0")
    with pytest.raises(InvalidInput):
        sales.list_quotes(buyer.company_id, 2, "not-a-cursor")
