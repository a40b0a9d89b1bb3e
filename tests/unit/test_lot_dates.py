"""A lot's date and shelf life as pages show them: the words for an expiry or a retest date, and the one rule that
tells a sellable lot from a short-dated or expired one, over any dates."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shop.inventory.availability import ShelfLife, sellable_after, shelf_life
from shop.inventory.models import BatchStatus, DateKind

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@given(st.sampled_from(DateKind), days)
def test_a_lot_date_says_which_kind_it_is_and_gives_the_date(kind, on):
    text = kind.dated(on)
    assert text.endswith(" " + on.isoformat())
    assert text.startswith("Retest ") == (kind is DateKind.RETEST)
    assert text.startswith("Expiry ") == (kind is DateKind.EXPIRY)
    assert kind.label.startswith(kind.word)  # "Retest" / "Retest date": one vocabulary


@given(st.sampled_from(BatchStatus), days, st.integers(0, 3650), days)
def test_shelf_life_is_the_sellable_lot_rule_with_short_dated_and_expired_told_apart(status, expires, min_days,
                                                                                     today):
    state = shelf_life(status, expires, min_days, today)
    released = status == BatchStatus.RELEASED
    # The same dates as the SQL condition that fills orders (availability.sellable_lot_condition).
    assert (state == ShelfLife.SELLABLE) == (released and expires > sellable_after(min_days, today))
    assert (state == ShelfLife.EXPIRED) == (released and expires <= today)
    assert (state == ShelfLife.SHORT_DATED) == (released and today < expires <= today + timedelta(days=min_days))
    assert (state == ShelfLife.NOT_RELEASED) == (not released)


@given(days, st.integers(1, 3650))
def test_a_lot_is_short_dated_exactly_until_the_minimum_is_left(today, min_days):
    edge = today + timedelta(days=min_days)
    assert shelf_life(BatchStatus.RELEASED, edge, min_days, today) == ShelfLife.SHORT_DATED
    assert shelf_life(BatchStatus.RELEASED, edge + timedelta(days=1), min_days, today) == ShelfLife.SELLABLE
