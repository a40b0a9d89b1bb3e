"""A complaint's pure rules: its number as people quote it, the one table of status moves, what a filing must say
and which lots it is about, and the texts of the investigation; with Hypothesis properties."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shop.complaints import rules
from shop.complaints.models import ComplaintStatus as S

lots = st.lists(st.from_regex(r"[A-Z]{1,3}-[0-9]{2,5}", fullmatch=True), max_size=6, unique=True)


def test_a_number_names_the_year_and_a_serial_of_at_least_five_digits():
    assert rules.format_number(2026, 12) == "C-2026-00012"
    assert rules.format_number(2027, 123456) == "C-2027-123456"
    assert rules.parse_number(" c-2026-00012 ") == (2026, 12)
    for nonsense in ("C-2026-12", "LS-261206-ECACD", "C-26-00012", "", "C-2026-00012-1"):
        assert rules.parse_number(nonsense) is None
    for year, serial in ((999, 1), (2026, 0)):
        with pytest.raises(ValueError):
            rules.format_number(year, serial)


@settings(deadline=None)
@given(st.integers(1000, 9999), st.integers(1, 10**9), st.integers(1000, 9999), st.integers(1, 10**9))
def test_numbers_read_back_and_differ_exactly_when_year_or_serial_do(year, serial, other_year, other_serial):
    number = rules.format_number(year, serial)
    assert rules.parse_number(number) == (year, serial) and rules.parse_number(number.lower()) == (year, serial)
    assert (number == rules.format_number(other_year, other_serial)) == ((year, serial) == (other_year, other_serial))
    assert len(number) <= 20  # the column's width, for a billion complaints a year


def test_the_life_cycle_goes_open_investigating_closed_and_never_back():
    assert [(a, b) for a in S for b in S if rules.may_move(a, b)] == [(S.OPEN, S.INVESTIGATING),
                                                                      (S.INVESTIGATING, S.CLOSED)]


@settings(deadline=None)
@given(st.lists(st.sampled_from(list(S)), max_size=8))
def test_following_the_table_a_closed_complaint_stays_closed(steps):
    status = S.OPEN
    for target in steps:
        if rules.may_move(status, target):
            assert status != S.CLOSED
            status = target
    assert status in (S.OPEN, S.INVESTIGATING, S.CLOSED)
    assert not any(rules.may_move(S.CLOSED, target) for target in S)


@pytest.mark.parametrize(("category", "description", "fields"), [
    ("quality", "Caked powder.", set()),
    ("taste", "Caked powder.", {"category"}),
    (None, "   ", {"category", "description"}),
    ("other", 42, {"description"}),
    ("delivery", "x" * (rules.MAX_DESCRIPTION + 1), {"description"}),
    ("documentation", "x" * rules.MAX_DESCRIPTION, set()),
])
def test_a_filing_needs_a_known_category_and_a_bounded_description(category, description, fields):
    assert set(rules.filing_errors(category, description)) == fields


@settings(deadline=None)
@given(lots, st.data())
def test_the_lots_are_all_the_line_drew_or_the_one_named_among_them(drawn, data):
    everything, refusal = rules.chosen_lots(drawn, None)
    assert everything == sorted(drawn) and refusal is None
    if drawn:
        named = data.draw(st.sampled_from(drawn))
        typed = data.draw(st.sampled_from([named, named.lower(), f" {named} "]))
        assert rules.chosen_lots(drawn, typed) == ([named], None)
    stranger = data.draw(st.from_regex(r"Z[0-9]{6}", fullmatch=True))
    chosen, refusal = rules.chosen_lots(drawn, stranger)
    assert chosen == [] and stranger in refusal


def test_closing_needs_every_capa_text_and_each_is_bounded():
    texts = {"root_cause": "Torn liner", "corrective_action": "", "preventive_action": "  ",
             "resolution": "x" * (rules.MAX_CAPA_FIELD + 1)}
    errors = rules.capa_errors(texts, required=tuple(texts))
    assert set(errors) == {"corrective_action", "preventive_action", "resolution"}
    assert "corrective action is required" in errors["corrective_action"][0]
    assert rules.capa_errors(texts, required=()) == {"resolution": [f"At most {rules.MAX_CAPA_FIELD} characters "
                                                                    f"(this has {rules.MAX_CAPA_FIELD + 1})."]}
