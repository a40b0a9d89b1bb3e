"""Which allocated units a shipment takes: never more than a line holds unshipped, never from a recalled lot, the
earliest expiry first unless a lot is named; anything else refused by field path."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shop.fulfilment.picking import Held, LineHolding, Pick, pick, shape_errors, shippable

DAY0 = date(2027, 1, 1)


@st.composite
def holdings(draw):
    """One to three lines, each with up to four allocations in distinct lots, some recalled."""
    lines, next_id = [], 1
    for position in range(draw(st.integers(1, 3))):
        held = []
        for k in range(draw(st.integers(0, 4))):
            held.append(Held(next_id, f"L{position}-{k}", DAY0 + timedelta(days=draw(st.integers(0, 900))),
                             draw(st.integers(1, 20)), draw(st.booleans())))
            next_id += 1
        lines.append(LineHolding(position, f"SKU-{position}", tuple(held)))
    return lines


@given(holdings(), st.data())
def test_a_pick_within_what_a_line_may_ship_takes_exactly_that_earliest_expiry_first(lines, data):
    picks = [Pick(line.position, data.draw(st.integers(0, shippable(line)))) for line in lines]
    taken, errors = pick(picks, lines)
    if sum(p.quantity for p in picks) == 0:
        assert errors == {"lines": ["Choose at least one unit to ship."]} and taken == {}
        return
    assert errors == {}
    by_id = {h.allocation_id: h for line in lines for h in line.held}
    for line, p in zip(lines, picks, strict=True):
        took = {h.allocation_id: taken.get(h.allocation_id, 0) for h in line.held}
        assert sum(took.values()) == p.quantity
        assert all(took[h.allocation_id] == 0 for h in line.held if h.recalled)
        assert all(0 <= n <= by_id[i].quantity for i, n in took.items())
        # A later-expiring lot gives units only once every earlier one gave all it had.
        good = sorted((h for h in line.held if not h.recalled), key=lambda h: (h.expires_on, h.allocation_id))
        for earlier, later in zip(good, good[1:], strict=False):
            if took[later.allocation_id]:
                assert took[earlier.allocation_id] == earlier.quantity


@given(holdings(), st.integers(1, 50))
def test_more_than_a_line_may_ship_is_refused_with_what_it_holds(lines, extra):
    line = lines[0]
    taken, errors = pick([Pick(line.position, shippable(line) + extra)], lines)
    assert list(errors) == [f"lines.{line.position}.quantity"]
    assert errors[f"lines.{line.position}.quantity"][0].startswith(f"Only {shippable(line)} unit")


def test_a_named_lot_ships_from_that_lot_and_a_recalled_one_is_refused():
    line = LineHolding(0, "LEU-USP-25KG", (Held(1, "EARLY", DAY0, 2), Held(2, "LATE", DAY0 + timedelta(days=90), 3),
                                           Held(3, "BAD", DAY0, 4, recalled=True)))
    assert pick([Pick(0, 2, "late")], [line]) == ({2: 2}, {})
    assert pick([Pick(0, 1, "BAD")], [line])[1] == {
        "lines.0.lot_number": ["Lot BAD is recalled: its units cannot ship."]}
    assert pick([Pick(0, 1, "OTHER")], [line])[1] == {
        "lines.0.lot_number": ["LEU-USP-25KG has no units of lot OTHER allocated and not shipped."]}
    assert pick([Pick(0, 6)], [line])[1] == {"lines.0.quantity": [
        "Only 5 units of LEU-USP-25KG are allocated and not shipped, not 6. Units of recalled lot BAD cannot ship."]}
    assert pick([Pick(0, 4, "LATE")], [line])[1] == {"lines.0.quantity": [
        "Only 3 units of LEU-USP-25KG from lot LATE are allocated and not shipped, not 4."]}


def test_picks_of_one_line_add_up_and_a_line_the_order_lacks_is_named():
    line = LineHolding(0, "S", (Held(1, "A", DAY0, 2), Held(2, "B", DAY0 + timedelta(days=1), 2)))
    assert pick([Pick(0, 1, "B"), Pick(0, 3)], [line]) == ({2: 2, 1: 2}, {})
    assert pick([Pick(0, 1), Pick(7, 1)], [line])[1] == {"lines.7": ["The order has no line 7."]}


@given(st.one_of(st.integers(max_value=-1), st.floats(), st.text(max_size=3), st.booleans(), st.none(),
                 st.integers(min_value=2**31)))
def test_a_quantity_that_is_not_a_whole_number_of_units_is_refused_by_its_path(quantity):
    assert shape_errors([Pick(3, quantity)]) == {"lines.3.quantity": ["Enter a whole number of units, 0 or more."]}
