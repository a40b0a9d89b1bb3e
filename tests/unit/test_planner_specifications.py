"""The planner with a customer's specification rule, pinned lots and single_lot: a Hypothesis property."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shop.ordering import planner

TODAY = date(2026, 12, 5)


@st.composite
def cases(draw):
    n = draw(st.integers(1, 8))
    lots = [planner.StockLot(i + 1, draw(st.integers(1, 2)), i + 1, TODAY + timedelta(days=draw(st.integers(1, 60))),
                             draw(st.integers(0, 20)), f"L-{i + 1}") for i in range(n)]
    meets = {lot.batch_id: draw(st.booleans()) for lot in lots}  # the lots' results against the company's limits
    single = draw(st.booleans())
    needs = []
    for key in range(draw(st.integers(1, 3))):
        pin = draw(st.one_of(st.none(), st.sampled_from([lot.lot_number.lower() for lot in lots] + ["L-99"])))
        needs.append(planner.Need(key, draw(st.integers(1, 2)), draw(st.integers(1, 30)),
                                  TODAY + timedelta(days=draw(st.integers(0, 30))), single, pin))
    return lots, meets, needs


@settings(max_examples=300, deadline=None)
@given(cases())
def test_the_planner_keeps_to_the_spec_the_pin_one_lot_and_the_free_units(case):
    lots, meets, needs = case
    plan = planner.plan(needs, lots, (*planner.DEFAULT_RULES, planner.meeting(meets.__getitem__)))
    by_key = {need.key: need for need in needs}
    taken: dict[int, int] = defaultdict(int)
    lots_of: dict[object, set[int]] = defaultdict(set)
    for pick in plan.picks:
        need = by_key[pick.key]
        assert meets[pick.lot.batch_id]  # never outside the company's specification
        assert pick.lot.variant_id == need.variant_id and pick.lot.expires_on > need.not_before
        if need.lot_number is not None:
            assert pick.lot.lot_number.lower() == need.lot_number.lower()  # never another than the pinned lot
        taken[pick.stock_id] += pick.quantity
        lots_of[pick.key].add(pick.stock_id)
    for lot in lots:
        assert taken[lot.stock_id] <= lot.free  # never more than a lot has
    for need in needs:
        got = sum(p.quantity for p in plan.picks if p.key == need.key)
        assert got + plan.missing.get(need.key, 0) == need.quantity
        if need.single_lot:
            assert len(lots_of[need.key]) <= 1  # never split
            assert got in (0, need.quantity)
