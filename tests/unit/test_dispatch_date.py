"""The acknowledgement's expected dispatch date: DISPATCH_WITHIN_DAYS business days (Monday to Friday) after the
day of confirmation, checked over any day and any number of days."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shop.ordering.acknowledgement import dispatch_by

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
counts = st.integers(0, 400)


def _working_days_between(start: date, end: date) -> int:
    """Working days after `start`, up to and including `end`."""
    return sum((start + timedelta(days=i)).weekday() < 5 for i in range(1, (end - start).days + 1))


@given(days, counts)
def test_dispatch_is_a_working_day_that_many_working_days_later(confirmed, n):
    due = dispatch_by(confirmed, n)
    assert due.weekday() < 5
    if n:
        assert _working_days_between(confirmed, due) == n
    else:  # the day itself, or the Monday after a weekend
        assert _working_days_between(confirmed, due) == (confirmed.weekday() >= 5)
        assert (due - confirmed).days < 3


@given(days, st.integers(1, 400))
def test_one_more_day_is_the_next_working_day(confirmed, n):
    later, next_one = dispatch_by(confirmed, n), dispatch_by(confirmed, n + 1)
    assert next_one > later and _working_days_between(later, next_one) == 1


def test_a_friday_confirmation_with_three_days_leaves_on_wednesday():
    assert dispatch_by(date(2026, 12, 4), 3) == date(2026, 12, 9)
    assert dispatch_by(date(2026, 12, 5), 3) == date(2026, 12, 9)  # Saturday: Monday, Tuesday, Wednesday
    assert dispatch_by(date(2026, 12, 5), 0) == date(2026, 12, 7)  # Saturday: the Monday
