"""The CoA result rules as pure functions: every refused form, '< N' against limits, and properties (Hypothesis)
of the parser, the pass/fail judgement and the FEFO refill planner."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.lab.results import ResultRefused, Verdict, check, judge, parse
from shop.ordering.planner import Need, StockLot, plan

D = Decimal


@pytest.mark.parametrize(("raw", "unit", "says"), [
    ("1,500", "ppm", "could be a thousands separator or a decimal comma"),
    ("15,2", "°", "has a decimal comma: write it with a point, e.g. 15.2"),
    ("1e1", "ppm", "is written with an exponent: write the plain number, e.g. 10"),
    ("-5", "ppm", "a result in ppm cannot be negative"),
    ("-0.1", "%", "a result in % cannot be negative"),
    ("-2", "‰", "a result in ‰ cannot be negative"),
    ("NaN", "ppm", "'NaN' is not a measured value"),
    ("Infinity", "ppm", "'Infinity' is not a measured value"),
    (" 12 ", "ppm", "Remove the spaces before or after '12'"),
    ("12 ppm", "ppm", "enter the number only, e.g. 12, without a unit or other text; the unit (ppm) is fixed"),
])
def test_each_ambiguous_or_impossible_result_is_refused_saying_why(raw, unit, says):
    with pytest.raises(ResultRefused) as refused:
        parse(raw, unit=unit)
    assert says in str(refused.value)
    assert "e.g." in str(refused.value)  # and shows the form expected


def test_1_500_is_never_read_as_one_and_a_half():
    with pytest.raises(ResultRefused) as refused:
        parse("1,500", unit="ppm")
    assert "e.g. 1500, or 1.5 if the comma was a decimal comma" in str(refused.value)


@pytest.mark.parametrize(("raw", "value", "number"), [
    ("1500", "1500", D(1500)), ("0.08", "0.08", D("0.08")), ("0.080", "0.080", D("0.080")),
    ("15.2", "15.2", D("15.2")), ("< 5", "< 5", D(5)), ("<5", "< 5", D(5)),
])
def test_plain_numbers_and_below_the_limit_of_quantification_are_read_as_written(raw, value, number):
    reading = parse(raw, unit="ppm")
    assert (reading.value, reading.number) == (value, number)
    assert reading.qualifier == ("<" if raw.startswith("<") else None)


def test_a_rotation_may_be_negative_but_an_amount_may_not():
    assert parse("-15.2", unit="°").number == D("-15.2")
    with pytest.raises(ResultRefused):
        parse("-15.2", unit="mg/kg")


def test_below_5_passes_a_maximum_of_10():
    found = check("< 5", unit="ppm", minimum=None, maximum=D(10), limits="≤ 10 ppm")
    assert (found.refused, found.verdict) == (False, Verdict.PASS)


def test_below_5_cannot_pass_a_minimum_of_10():
    found = check("< 5", unit="%", minimum=D(10), maximum=None, limits="≥ 10 %")
    assert (found.refused, found.verdict) == (False, Verdict.FAIL)


def test_below_a_bound_that_straddles_the_limit_cannot_be_judged_and_is_refused():
    above_max = check("< 50", unit="ppm", minimum=None, maximum=D(30), limits="≤ 30 ppm")
    above_min = check("< 15", unit="%", minimum=D(10), maximum=D(20), limits="10 – 20 %")
    for found in (above_max, above_min):
        assert found.refused and found.verdict == Verdict.UNDETERMINED
        assert "cannot be judged against" in found.message


def test_a_qualitative_test_takes_conforms_or_does_not_conform_only():
    assert judge(parse("Conforms", qualitative=True), None, None) == Verdict.PASS
    assert judge(parse("does not conform", qualitative=True), None, None) == Verdict.FAIL
    for raw in ("ok", "12", "< 5", " conforms"):
        with pytest.raises(ResultRefused):
            parse(raw, qualitative=True)


# --- Properties --------------------------------------------------------------------------------------

decimals = st.decimals(min_value=0, max_value=D("9999999999.9999"), places=4, allow_nan=False,
                       allow_infinity=False)
signed_decimals = st.decimals(min_value=D("-9999.9999"), max_value=D("9999.9999"), places=4, allow_nan=False,
                              allow_infinity=False)
limits = st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False,
                                          allow_infinity=False))


@given(decimals)
def test_any_plain_decimal_written_with_a_point_is_read_back_exactly(number):
    text = format(number, "f")
    reading = parse(text, unit="ppm")
    assert reading.number == number and reading.value == text and reading.qualifier is None


@given(st.text(max_size=30), st.sampled_from(["ppm", "%", "°", "", "mg/kg"]), st.booleans())
def test_the_parser_refuses_or_reads_but_never_crashes_or_guesses(raw, unit, qualitative):
    try:
        reading = parse(raw, unit=unit, qualitative=qualitative)
    except ResultRefused:
        return
    if qualitative:
        assert reading.value in ("conforms", "does not conform")
        return
    # Whatever is accepted is a plain decimal (after an optional '< '), and means exactly what it says.
    assert raw == raw.strip() and "," not in raw and "e" not in raw.lower()
    body = raw[1:].lstrip() if raw.startswith("<") else raw
    assert reading.number == Decimal(body)
    assert all(c in "0123456789.+-< " for c in raw)


@given(decimals, st.sampled_from([",", "e1", "E-2", " ", "x", " ppm"]), st.booleans())
def test_separators_exponents_and_junk_are_refused_wherever_they_appear(number, junk, before):
    text = format(number, "f")
    raw = junk + text if before else text + junk
    with pytest.raises(ResultRefused):
        parse(raw, unit="ppm")


@given(signed_decimals, limits, limits)
def test_a_plain_result_passes_exactly_when_it_lies_within_its_limits(number, lo, hi):
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    verdict = judge(parse(format(number, "f"), unit="°"), lo, hi)
    inside = (lo is None or number >= lo) and (hi is None or number <= hi)
    assert verdict == (Verdict.PASS if inside else Verdict.FAIL)


@given(st.decimals(min_value=D("0.0001"), max_value=1000, places=4), limits, limits,
       st.decimals(min_value=0, max_value=1, places=4))
def test_a_below_the_limit_result_is_judged_only_when_every_value_it_allows_agrees(bound, lo, hi, fraction):
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    if lo is None and hi is None:
        return  # a qualitative test: '< N' is refused by the parser there
    verdict = judge(parse(f"< {format(bound, 'f')}", unit="ppm"), lo, hi)
    # any value the result allows: 0 <= value < bound
    true_value = (bound * fraction * D("0.9999")).quantize(D("0.0001"), rounding=ROUND_DOWN)
    plain = judge(parse(format(true_value, "f"), unit="ppm"), lo, hi)
    if verdict == Verdict.PASS:
        assert plain == Verdict.PASS
    if verdict == Verdict.FAIL:
        assert plain == Verdict.FAIL


TODAY = date(2026, 1, 1)
lots = st.lists(st.builds(lambda sid, days, free: StockLot(sid, 1, sid, TODAY + timedelta(days=days), free),
                          st.integers(1, 10_000), st.integers(-10, 400), st.integers(0, 50)),
                max_size=8, unique_by=lambda lot: lot.stock_id)
needs = st.lists(st.builds(lambda key, qty, days: Need(key, 1, qty, TODAY + timedelta(days=days)),
                           st.integers(), st.integers(1, 80), st.integers(0, 200)),
                 max_size=5, unique_by=lambda need: need.key)


@given(needs, lots)
def test_refill_plan_never_oversells_never_takes_a_short_dated_lot_and_goes_first_expired_first_out(wants, stock):
    planned = plan(wants, stock)
    picks, missing = planned.picks, planned.missing
    by_id = {lot.stock_id: lot for lot in stock}
    taken: dict[int, int] = {}
    for pick in picks:
        taken[pick.stock_id] = taken.get(pick.stock_id, 0) + pick.quantity
        assert pick.quantity > 0
    assert all(taken[sid] <= by_id[sid].free for sid in taken)  # never more than a lot has free
    for want in wants:
        mine = [p for p in picks if p.key == want.key]
        got = sum(p.quantity for p in mine)
        assert got + missing.get(want.key, 0) == want.quantity
        assert all(by_id[p.stock_id].expires_on > want.not_before for p in mine)  # shelf life kept
        # FEFO: a lot is drawn only once every earlier-expiring lot that fits is used up
        for p in mine:
            lot = by_id[p.stock_id]
            for other in stock:
                earlier = (other.expires_on, other.batch_id, other.stock_id) < (lot.expires_on, lot.batch_id,
                                                                               lot.stock_id)
                if earlier and other.expires_on > want.not_before:
                    assert taken.get(other.stock_id, 0) == other.free
