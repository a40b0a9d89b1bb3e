"""Names are one plain line: control characters, line separators and direction overrides are refused, nothing else."""
from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from shop.platform.names import NOT_ONE_LINE, checked_name, is_plain_line, name_problem

REFUSED = st.sampled_from(["\r", "\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029", "\u202e",
                           "\u2066"])
PLAIN = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp", "Cf")))


@given(PLAIN, REFUSED, PLAIN)
def test_a_name_with_any_control_character_or_line_separator_is_refused(before, bad, after):
    name = f"A{before}{bad}{after}Z"  # inside the name: trimming takes a trailing line break off, harmlessly
    assert not is_plain_line(name)
    errors: dict[str, list[str]] = {}
    checked_name(name, "name", 10_000, errors)
    assert errors == {"name": [NOT_ONE_LINE]}


@given(PLAIN)
def test_plain_text_in_any_script_is_a_name(text):
    assert is_plain_line(text) and name_problem(text, len(text)) is None


@given(st.characters())
def test_every_cc_zl_or_zp_character_is_refused(ch):
    if unicodedata.category(ch) in {"Cc", "Zl", "Zp"}:
        assert not is_plain_line(ch)


def test_a_name_is_trimmed_bounded_and_required_when_asked():
    errors: dict[str, list[str]] = {}
    assert checked_name("  Acme  ", "name", 4, errors) == "Acme" and errors == {}
    checked_name("Acme GmbH", "name", 4, errors)
    checked_name(" ", "company", 10, errors, required="The company name is required.")
    checked_name(7, "key", 10, errors)
    assert errors == {"name": ["At most 4 characters."], "company": ["The company name is required."],
                      "key": ["Must be text."]}
