"""The pure rules of quotes: how sales write a price, the table of moves, and when a quote may be accepted."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shop.ordering.planner import Need, StockLot, plan
from shop.sales import rules
from shop.sales.models import QuoteStatus

cents = st.integers(min_value=1, max_value=999_999_999_999).map(lambda c: Decimal(c).scaleb(-2))


@given(cents)
def test_every_positive_amount_in_cents_is_read_back_exactly(price):
    assert rules.parse_price(str(price)) == price
    assert rules.parse_price(price) == price


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_is_never_a_price(value):
    assert rules.parse_price(value) is None


# Any text, and text of nothing but digits of every script and points, where a loose reading would slip through.
digits_of_any_script = st.text(st.characters(categories=["Nd"]) | st.just("."), min_size=1, max_size=12)


@given(st.text(max_size=20) | digits_of_any_script)
def test_only_digits_with_at_most_two_places_are_a_price(text):
    parsed = rules.parse_price(text)
    if parsed is not None:
        digits = text.strip()
        assert set(digits) <= set("0123456789.") and parsed > 0
        assert "." not in digits or len(digits.split(".")[1]) <= 2


def test_what_people_mistype_is_refused():
    for typed in ("1,500", "1.500,00", "1e3", "-1", "0", "0.00", "1.505", "", " ", "NaN", "Infinity", "€100", "+5",
                  "١٠", "１０", "10.٥"):
        assert rules.parse_price(typed) is None, typed
    assert rules.parse_price(" 1500.5 ") == Decimal("1500.5")


def test_closed_quotes_move_no_more_and_only_answered_ones_are_accepted():
    closed = [s for s in QuoteStatus if s not in (QuoteStatus.REQUESTED, QuoteStatus.ANSWERED)]
    assert all(not rules.TRANSITIONS[s] for s in closed)
    assert [s for s in QuoteStatus if rules.may_move(s, QuoteStatus.ACCEPTED)] == [QuoteStatus.ANSWERED]
    # Nothing to decline before sales answered (DESIGN: 409 quote-not-open); sales may withdraw it.
    assert [s for s in QuoteStatus if rules.may_move(s, QuoteStatus.DECLINED)] == [QuoteStatus.ANSWERED]
    assert rules.may_move(QuoteStatus.REQUESTED, QuoteStatus.WITHDRAWN)


@given(st.dates(), st.integers(min_value=-3, max_value=3))
def test_a_quote_is_open_through_its_last_day(today, offset):
    last = today + timedelta(days=offset)
    assert rules.is_open(QuoteStatus.ANSWERED, last, today) == (offset >= 0)
    assert not rules.is_open(QuoteStatus.EXPIRED, last, today)


def test_a_request_in_the_past_or_without_lines_is_refused_by_field():
    _, errors = rules.request_errors([], None, "2020-01-01", None, date(2026, 1, 1))
    assert set(errors) == {"lines", "needed_by"}


lots = st.lists(st.builds(StockLot, stock_id=st.integers(1, 8), variant_id=st.just(1), batch_id=st.integers(1, 4),
                          expires_on=st.dates(date(2027, 1, 1), date(2029, 1, 1)), free=st.integers(0, 6)),
                unique_by=lambda lot: lot.stock_id, max_size=8)


@given(lots, st.integers(1, 30), st.sets(st.integers(1, 8)))
def test_a_need_draws_its_preferred_rows_first_then_fefo(available, quantity, preferred):
    need = Need("line", 1, quantity, date(2026, 12, 31), preferred=frozenset(preferred))
    picks = plan([need], available).picks
    free_preferred = sum(lot.free for lot in available if lot.stock_id in preferred)
    taken_preferred = sum(p.quantity for p in picks if p.stock_id in preferred)
    assert taken_preferred == min(quantity, free_preferred)
    assert sum(p.quantity for p in picks) == min(quantity, sum(lot.free for lot in available))
    rest = [p.lot for p in picks if p.stock_id not in preferred]
    assert rest == sorted(rest, key=lambda lot: (lot.expires_on, lot.batch_id, lot.stock_id))
