"""Packing-slip weights: per line and in total, checked over any mix of pack sizes."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from shop.ordering.packing import line_note, shipment

kg = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000"), places=3)
lines = st.lists(st.tuples(st.text("ABCDEFGHIJ-", min_size=1, max_size=8), kg, st.none() | kg,
                           st.integers(0, 500)), max_size=8)


@given(lines)
def test_totals_are_the_sums_of_the_lines_and_gross_is_never_below_net(rows):
    packed = shipment(rows)
    assert packed.packages == sum(n for *_, n in rows)
    assert packed.net_kg == sum((size * n for _, size, _, n in rows), Decimal(0))
    if packed.gross_kg is not None:
        assert packed.gross_kg == sum(((size + tare) * n for _, size, tare, n in rows), Decimal(0))
        assert packed.gross_kg >= packed.net_kg


@given(lines)
def test_an_unweighed_pack_leaves_the_gross_total_unknown_and_named(rows):
    packed = shipment(rows)
    unweighed = [sku for sku, _, tare, _ in rows if tare is None]
    assert (packed.gross_kg is None) == bool(unweighed)
    assert packed.unweighed == unweighed


def test_four_drums_and_ten_bags():
    packed = shipment([("LEU-USP-25KG", Decimal("25"), Decimal("1.9"), 4),
                       ("LEU-USP-1KG", Decimal("1"), Decimal("0.15"), 10)])
    assert (packed.packages, packed.net_kg, packed.gross_kg) == (14, Decimal("110"), Decimal("119.100"))


@st.composite
def line_states(draw):
    """A line as a slip sees it: units ordered, cancelled, held (never more than it is to deliver), and whether the
    order is flagged for attention."""
    ordered = draw(st.integers(1, 500))
    cancelled = draw(st.integers(0, ordered))
    held = draw(st.integers(0, ordered - cancelled))
    return ordered, cancelled, held, draw(st.booleans())


@given(line_states())
def test_a_line_note_says_what_is_not_there_to_pick_as_things_are_now(state):
    ordered, cancelled, held, flagged = state
    note = line_note(ordered, cancelled, held, flagged)
    missing = ordered - cancelled - held
    assert (note.text == "") == (missing == 0 and cancelled == 0)
    assert note.short == (missing > 0)
    assert (f"{cancelled} unit" in note.text and "cancelled" in note.text) == (cancelled > 0)
    assert (f"{missing} of {ordered - cancelled} unit" in note.text) == (missing > 0)
    assert ("attention note" in note.text) == (missing > 0 and flagged)
    assert note.text.endswith("Nothing to pack.") == (held == 0)


@given(line_states(), st.integers(0, 500))
def test_units_shipped_already_are_said_and_not_counted_missing(state, shipped):
    ordered, cancelled, held, flagged = state
    shipped = min(shipped, ordered - cancelled - held)  # what left is not held any more
    note = line_note(ordered, cancelled, held, flagged, shipped=shipped)
    missing = ordered - cancelled - shipped - held
    assert ("shipped already: not to pick again" in note.text) == (shipped > 0)
    assert note.short == (missing > 0)
    assert (f"{missing} of {ordered - cancelled} unit" in note.text) == (missing > 0)


def test_a_line_whose_units_were_all_cancelled_has_nothing_to_pack():
    assert line_note(4, 4, 0, False).text == "4 units cancelled: they could not be supplied. Nothing to pack."
    assert line_note(6, 0, 2, False).text == ("4 of 6 units not allocated yet: allocate them on the order's page "
                                              "before packing.")
