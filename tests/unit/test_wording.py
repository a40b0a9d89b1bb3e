"""The one way the shop counts units in words (pages, e-mails, documents, an order's notes): the count as it is,
and a noun that agrees with it."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shop.platform.wording import units


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_the_noun_is_singular_for_one_unit_only(count):
    number, noun = units(count).split(" ")
    assert int(number) == count
    assert noun == ("unit" if count == 1 else "units")


def test_one_unit_is_never_units():
    assert (units(0), units(1), units(2)) == ("0 units", "1 unit", "2 units")
