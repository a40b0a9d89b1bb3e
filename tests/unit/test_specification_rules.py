"""A customer specification's rules as pure functions: which limits a company may set on a grade's tests (every
refusal by field path) and whether a lot's reported result meets them, with Hypothesis properties."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shop.specifications.rules import GradeTest, Limit, check_limits, lot_meets, meets

D = Decimal
ASSAY = GradeTest(1, "Assay (dried basis)", "%", D("98.5"), D("101.5"))
IRON = GradeTest(2, "Iron", "ppm", None, D("30"))
APPEARANCE = GradeTest(3, "Appearance", "", None, None)
ROTATION = GradeTest(4, "Specific rotation", "°", D("-17.3"), D("-14.9"))
TESTS = [ASSAY, IRON, APPEARANCE, ROTATION]


def test_good_limits_are_read_as_decimals_in_the_order_given():
    limits, errors = check_limits(TESTS, [{"test": " iron ", "max": "10"}, {"test": "ASSAY (dried basis)",
                                                                            "min": "99.0", "max": "101.0"}])
    assert errors == {}
    assert limits == [Limit(2, "Iron", "ppm", None, D("10")), Limit(1, "Assay (dried basis)", "%", D("99.0"),
                                                                      D("101.0"))]


def test_a_signed_unit_takes_a_negative_limit():
    limits, errors = check_limits(TESTS, [{"test": "Specific rotation", "min": "-16.0"}])
    assert errors == {} and limits[0].min == D("-16.0")


@pytest.mark.parametrize(("raw", "path", "says"), [
    ([{"test": "Colour", "max": "1"}], "limits.0.test", "is not a test of this grade's specification"),
    ([{"max": "1"}], "limits.0.test", "The test's name is required"),
    ([{"test": "Appearance", "max": "1"}], "limits.0.test", "has no numeric limits"),
    ([{"test": "Iron", "max": 10}], "limits.0.max", "decimal string"),
    ([{"test": "Iron", "max": True}], "limits.0.max", "decimal string"),
    ([{"test": "Iron", "max": "1,5"}], "limits.0.max", "not a plain decimal number"),
    ([{"test": "Iron", "max": "1e1"}], "limits.0.max", "not a plain decimal number"),
    ([{"test": "Iron", "max": "0.00001"}], "limits.0.max", "more than 4 digits"),
    ([{"test": "Iron", "max": "-1"}], "limits.0.max", "cannot be negative"),
    ([{"test": "Assay (dried basis)", "min": "100.5", "max": "99.5"}], "limits.0", "is above the max"),
    ([{"test": "Assay (dried basis)", "min": "98.0"}], "limits.0", "looser than the grade's"),
    ([{"test": "Iron", "max": "31"}], "limits.0", "looser than the grade's"),
    ([{"test": "Assay (dried basis)", "max": "98.0"}], "limits.0", "below the grade's min"),
    ([{"test": "Iron"}], "limits.0", "Give a min, a max or both"),
    ([{"test": "Iron", "max": "10", "unit": "ppm"}], "limits.0", "Unknown field: unit"),
    ([{"test": "Iron", "max": "10"}, {"test": "IRON", "max": "5"}], "limits.1.test", "already limited"),
    (["Iron"], "limits.0", "Each limit is an object"),
    ([], "limits", "Give at least one limit"),
    ({"Iron": "10"}, "limits", "Give at least one limit"),
])
def test_each_refused_limit_says_why_at_its_field_path(raw, path, says):
    limits, errors = check_limits(TESTS, raw)
    assert says in " ".join(errors.get(path, [])), errors


def test_every_refusal_is_reported_at_once():
    _, errors = check_limits(TESTS, [{"test": "Iron", "max": "x"}, {"test": "Colour"}, {"test": "Iron", "max": "5"}])
    assert set(errors) == {"limits.0.max", "limits.1.test", "limits.2.test"}  # Iron twice, too


@pytest.mark.parametrize(("limit", "value", "expected"), [
    (Limit(1, "Assay", "%", D("99.0"), None), "99.0", True),
    (Limit(1, "Assay", "%", D("99.0"), None), "98.99", False),
    (Limit(2, "Iron", "ppm", None, D("10")), "10", True),
    (Limit(2, "Iron", "ppm", None, D("10")), "10.01", False),
    (Limit(2, "Iron", "ppm", None, D("10")), "< 5", True),
    (Limit(2, "Iron", "ppm", None, D("4")), "< 5", False),  # cannot be shown to be at most 4
    (Limit(1, "Assay", "%", D("99.0"), None), "< 100", False),  # '< N' never meets a minimum
    (Limit(2, "Iron", "ppm", None, D("10")), None, False),  # no result: not shown to meet it
    (Limit(2, "Iron", "ppm", None, D("10")), "1,5", False),  # unreadable: never guessed
])
def test_a_result_meets_a_limit_only_when_shown_to(limit, value, expected):
    assert meets(limit, value) is expected


def test_a_lot_meets_a_specification_when_it_meets_every_limit():
    limits = [Limit(1, "Assay", "%", D("99.0"), None), Limit(2, "Iron", "ppm", None, D("10"))]
    assert lot_meets(limits, {1: "99.5", 2: "< 5"})
    assert not lot_meets(limits, {1: "99.5", 2: "12"})
    assert not lot_meets(limits, {1: "99.5"})
    assert lot_meets([], {})


# --- properties ---------------------------------------------------------------------------------------------

CENTS = st.integers(min_value=1, max_value=200_000).map(lambda n: D(n).scaleb(-2))


@st.composite
def grade_and_company(draw):
    """Grade limits and company limits within them: four ordered numbers a <= b <= c <= d; the grade keeps a and/or
    d, the company b and/or c (each at least one)."""
    a, b, c, d = sorted(draw(st.lists(CENTS, min_size=4, max_size=4)))
    grade_min, grade_max = draw(st.sampled_from([(a, d), (a, None), (None, d)]))
    company_min, company_max = draw(st.sampled_from([(b, c), (b, None), (None, c)]))
    return GradeTest(7, "Impurity", "ppm", grade_min, grade_max), company_min, company_max


def _text(number: Decimal) -> str:
    return format(number, "f")


# No deadline: a pure check whose time depends on how loaded the machine is, not on what it checks.
@settings(deadline=None)
@given(grade_and_company(), CENTS, st.booleans())
def test_meets_exactly_when_the_result_lies_within_the_companys_limits(setup, number, below):
    grade, low, high = setup
    raw = {"test": grade.name, **({"min": _text(low)} if low is not None else {}),
           **({"max": _text(high)} if high is not None else {})}
    limits, errors = check_limits([grade], [raw])
    assert errors == {}, errors  # a limit within the grade's is always accepted
    (limit,) = limits
    if below:  # '< N': the true value is somewhere below N
        expected = low is None and high is not None and number <= high
        assert meets(limit, f"< {_text(number)}") is expected
        if low is not None:
            assert not meets(limit, f"< {_text(number)}")  # never meets a minimum
    else:
        expected = (low is None or number >= low) and (high is None or number <= high)
        assert meets(limit, _text(number)) is expected


@settings(deadline=None)
@given(grade_and_company(), CENTS)
def test_a_limit_looser_than_the_grade_is_refused(setup, margin):
    grade, _, _ = setup
    raw = ({"test": grade.name, "min": _text(grade.min - margin)} if grade.min is not None and grade.min > margin
           else {"test": grade.name, "max": _text(grade.max + margin)} if grade.max is not None else None)
    if raw is None:
        return
    limits, errors = check_limits([grade], [raw])
    assert limits == [] and "limits.0" in errors
