"""The pure parts of issuing: numbers as people quote them (read back from any spelling, nothing else taken for
one) and the due date of each payment term."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.invoicing.issuing import due_date
from shop.invoicing.numbers import SERIES, format_number, parse_number

years = st.integers(min_value=1000, max_value=9999)
serials = st.integers(min_value=1, max_value=999_999_999)


@given(st.sampled_from(SERIES), years, serials)
def test_every_number_reads_back_in_any_case(series, year, serial):
    number = format_number(series, year, serial)
    assert number.startswith(f"{series}-{year}-") and len(number.rsplit("-", 1)[1]) >= 6
    assert parse_number(number) == parse_number(f"  {number.lower()} ") == number


@given(st.text(max_size=30))
def test_nothing_else_is_taken_for_a_number(text):
    parsed = parse_number(text)
    assert parsed is None or parsed == text.strip().upper()


@pytest.mark.parametrize("text", ["INV-2026-12", "INV-26-000001", "XX-2026-000001", "INV-2026-000001x", 7, None])
def test_what_is_not_a_number_is_refused(text):
    assert parse_number(text) is None


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2900, 1, 1)), st.integers(min_value=1, max_value=999))
def test_net_terms_fall_due_that_many_days_after_issue_and_prepaid_on_the_day(issued, days):
    assert due_date(issued, f"net_{days}") == issued + timedelta(days=days)
    assert due_date(issued, "prepaid") == issued


def test_only_ascii_spells_a_number():
    assert parse_number("INV-２０２６-000001") is None  # full-width digits
    assert parse_number("ınv-2026-000001") is None  # a dotless i
