"""The rules of a customer specification, as pure functions: which limits a company may set on a grade's test,
and whether a lot's reported result meets them. A limit only tightens: it lies within the grade's limits, so a
lot that meets it meets the grade too (and a released lot meets the grade already)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from shop.lab import results

MAX_DECIMALS = 4  # stored as NUMERIC(14, 4), like the grade's limits: more digits would be rounded, not kept
_PLAIN = re.compile(r"[+-]?[0-9]{1,10}(\.[0-9]+)?", re.ASCII)


@dataclass(frozen=True, slots=True)
class GradeTest:
    """A test of the grade as a customer limit needs it: name, unit and the grade's own limits."""

    id: int
    name: str
    unit: str
    min: Decimal | None
    max: Decimal | None

    @property
    def numeric(self) -> bool:
        return self.min is not None or self.max is not None


@dataclass(frozen=True, slots=True)
class Limit:
    """A company's limit on one test: at least `min` and/or at most `max`."""

    test_id: int
    test: str
    unit: str
    min: Decimal | None
    max: Decimal | None


def check_limits(tests: Sequence[GradeTest], raw: object) -> tuple[list[Limit], dict[str, list[str]]]:
    """The limits a request body's `limits` asks for, and every error by field path (`limits.0.min`)."""
    if not isinstance(raw, list) or not raw:
        return [], {"limits": ["Give at least one limit, as a list of {\"test\", \"min\", \"max\"}; "
                               "to remove the specification, delete it."]}
    by_name = {test.name.casefold(): test for test in tests}
    errors: dict[str, list[str]] = {}
    limits: list[Limit] = []
    seen: dict[int, int] = {}
    for i, item in enumerate(raw):
        path = f"limits.{i}"
        if not isinstance(item, Mapping):
            errors[path] = ['Each limit is an object: {"test", "min", "max"}.']
            continue
        unknown = sorted(set(item) - {"test", "min", "max"})
        if unknown:
            errors[path] = [f"Unknown field{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}."]
        name = item.get("test")
        test = by_name.get(name.strip().casefold()) if isinstance(name, str) else None
        if test is None:
            known = ", ".join(t.name for t in tests if t.numeric)
            errors[f"{path}.test"] = [f"'{name}' is not a test of this grade's specification; its numeric tests "
                                      f"are: {known}." if isinstance(name, str) and name.strip()
                                      else "The test's name is required."]
            continue
        if not test.numeric:
            errors[f"{path}.test"] = [f"{test.name} has no numeric limits (its result is 'conforms' or not): there "
                                      "is nothing to tighten."]
            continue
        if test.id in seen:
            errors[f"{path}.test"] = [f"{test.name} is already limited in limits.{seen[test.id]}; give each test once."]
            continue
        seen[test.id] = i
        low = _value(item.get("min"), test, f"{path}.min", errors)
        high = _value(item.get("max"), test, f"{path}.max", errors)
        if f"{path}.min" in errors or f"{path}.max" in errors:
            continue
        if low is None and high is None:
            errors[path] = [f"Give a min, a max or both for {test.name}."]
            continue
        problem = _within_grade(test, low, high)
        if problem:
            errors[path] = [problem]
            continue
        limits.append(Limit(test.id, test.name, test.unit, low, high))
    return limits, errors


def _value(raw: object, test: GradeTest, path: str, errors: dict[str, list[str]]) -> Decimal | None:
    """A limit as a decimal string with a point ("99.0"); None when absent. Anything else is refused, never guessed."""
    if raw is None:
        return None
    example = f'e.g. "{test.max if test.max is not None else test.min}"'
    if isinstance(raw, bool) or not isinstance(raw, str):
        errors[path] = [f"Write the limit as a decimal string with a point, {example}."]
        return None
    if not _PLAIN.fullmatch(raw):
        errors[path] = [f"'{raw}' is not a plain decimal number: write it with a point and without separators, "
                        f"units or exponents, {example}."]
        return None
    number = Decimal(raw)
    if -number.as_tuple().exponent > MAX_DECIMALS:
        errors[path] = [f"'{raw}' has more than {MAX_DECIMALS} digits after the point."]
        return None
    if number < 0 and test.unit.strip() not in results.SIGNED_UNITS:
        errors[path] = [f"'{raw}': {test.name} in {test.unit.strip() or 'this unit'} cannot be negative."]
        return None
    return number


def _within_grade(test: GradeTest, low: Decimal | None, high: Decimal | None) -> str | None:
    """Why these limits are not a tightening of the grade's (None when they are)."""
    unit = f" {test.unit}" if test.unit else ""
    if low is not None and high is not None and low > high:
        return f"The min ({low}) is above the max ({high})."
    if low is not None and test.min is not None and low < test.min:
        return f"A min of {low}{unit} is looser than the grade's ({_plain(test.min)}{unit}): a specification " \
               "can only tighten it."
    if high is not None and test.max is not None and high > test.max:
        return f"A max of {high}{unit} is looser than the grade's ({_plain(test.max)}{unit}): a specification " \
               "can only tighten it."
    if low is not None and test.max is not None and low > test.max:
        return f"A min of {low}{unit} is above the grade's max ({_plain(test.max)}{unit}): no lot could meet it."
    if high is not None and test.min is not None and high < test.min:
        return f"A max of {high}{unit} is below the grade's min ({_plain(test.min)}{unit}): no lot could meet it."
    return None


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def limits_text(low: Decimal | None, high: Decimal | None, unit: str) -> str:
    """Limits as people read them: '99.5 – 101 %', '≥ 99.5 %', '≤ 10 ppm' ('' for none)."""
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{_plain(low)} – {_plain(high)}{unit}"
    if high is not None:
        return f"≤ {_plain(high)}{unit}"
    if low is not None:
        return f"≥ {_plain(low)}{unit}"
    return ""


def meets(limit: Limit, value: str | None) -> bool:
    """Whether a lot's reported result for the test (as recorded: '99.3', '< 5') meets the company's limit.
    Read by the same entry rules as the CoA: a missing, unreadable or undecidable result ('< 5' against a min)
    does not meet it."""
    if value is None:
        return False
    found = results.check(value, unit=limit.unit, minimum=limit.min, maximum=limit.max, limits="")
    return not found.refused and found.verdict == results.Verdict.PASS


def lot_meets(limits: Iterable[Limit], values: Mapping[int, str]) -> bool:
    """Whether a lot whose results are `values` (by test id) meets every limit."""
    return all(meets(limit, values.get(limit.test_id)) for limit in limits)
