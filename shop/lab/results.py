"""CoA results as a laboratory reports them: one strict parser and the pass/fail judgement, as pure functions.

A Certificate of Analysis is a legal document, so a result is never guessed at: `1,500` could be fifteen
hundred or one and a half, `15,2` is a decimal comma, `1e1` an exponent; each is refused with a message that
says what was wrong and shows the form expected. The staff form, `import-batch`, the release check and
`check-results` all use `parse` and `judge`, so a value means the same wherever it was entered.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal

QUALITATIVE_RESULTS = ("conforms", "does not conform")
BELOW = "<"  # the one qualifier: a result below the limit of quantification
# Units whose values may be negative: an optical rotation turns either way, a temperature may be below zero.
# Every other unit is an amount (%, ppm, ‰, mg/kg, …) that cannot be.
SIGNED_UNITS = frozenset({"°", "°C", "mV"})
# The database keeps results as NUMERIC(14, 4): more digits would be rounded there, and a rounded value
# could pass a limit that the reported one fails, so they are refused instead.
MAX_DECIMALS = 4
MAX_INTEGER_DIGITS = 10
EXPECTED = "a plain number with a point, e.g. 1500, 0.08 or 15.2, or '< 5' for a result below the limit " \
           "of quantification"

# ASCII digits only: \d would also take Arabic-Indic or full-width digits.
_PLAIN = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?", re.ASCII)
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+", re.ASCII)
_EXPONENT = re.compile(r"[+-]?[0-9]*\.?[0-9]+[eE][+-]?[0-9]+", re.ASCII)
_NUMBER_THEN_TEXT = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?\s*[^\s0-9.,]+.*", re.ASCII | re.DOTALL)
_NOT_A_NUMBER = {"nan", "+nan", "-nan", "snan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


class ResultRefused(ValueError):
    """A reported result that cannot be recorded; the message says why and what is expected."""


@dataclass(frozen=True)
class Reading:
    """A parsed result: `value` as it is recorded and printed ('0.080', '< 5', 'conforms'), `number` its
    numeric value (None for a qualitative result) and `qualifier` '<' for a result below the limit of
    quantification (then `number` is that limit)."""

    value: str
    number: Decimal | None = None
    qualifier: str | None = None


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNDETERMINED = "undetermined"  # '< N' that may lie on either side of a limit: refused at entry


def parse(raw: object, *, unit: str = "", qualitative: bool = False) -> Reading:
    """Read one reported result for a test with this unit (or a qualitative test); raise ResultRefused."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise ResultRefused(f"Write the result as text as the laboratory reported it: {EXPECTED}.")
    text = str(raw)
    if not text.strip():
        raise ResultRefused("A result is required.")
    if text != text.strip():
        raise ResultRefused(f"Remove the spaces before or after '{text.strip()}': enter {EXPECTED}.")
    if qualitative:
        lowered = text.lower()
        if lowered not in QUALITATIVE_RESULTS:
            raise ResultRefused("Enter 'conforms' or 'does not conform'.")
        return Reading(lowered)
    if text.startswith(BELOW):
        bound = text[1:].removeprefix(" ")
        number = _number(bound, unit)
        if number <= 0:
            raise ResultRefused(f"'{text}': a limit of quantification is above zero, e.g. '< 5'.")
        return Reading(f"{BELOW} {bound}", number, BELOW)
    return Reading(text, _number(text, unit))


def _number(text: str, unit: str) -> Decimal:
    """A plain decimal number with a point; everything else is refused with the reason."""
    if not _PLAIN.fullmatch(text):
        raise ResultRefused(_why_not_plain(text, unit))
    integer, _, decimals = text.lstrip("+-").partition(".")
    if len(decimals) > MAX_DECIMALS:
        raise ResultRefused(f"'{text}' has more than {MAX_DECIMALS} digits after the point; round it as the "
                            "method reports it.")
    if len(integer.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise ResultRefused(f"'{text}' is too large for a result.")
    number = Decimal(text)
    if text.startswith("-") and unit.strip() not in SIGNED_UNITS:
        raise ResultRefused(f"'{text}': a result in {unit.strip() or 'this unit'} cannot be negative; enter the "
                            "measured amount, e.g. 0.08, or '< 5' below the limit of quantification.")
    return number


def _why_not_plain(text: str, unit: str) -> str:
    lowered = text.lower()
    if lowered in _NOT_A_NUMBER:
        return f"'{text}' is not a measured value: enter {EXPECTED}."
    if _THOUSANDS.fullmatch(text):
        example = f"e.g. {text.replace(',', '')}"
        if text.count(",") == 1 and "." not in text:
            example += f", or {_plain_of(text.replace(',', '.'))} if the comma was a decimal comma"
        return (f"'{text}' has a comma, which could be a thousands separator or a decimal comma: write the number "
                f"without separators and with a point, {example}.")
    if _DECIMAL_COMMA.fullmatch(text):
        return f"'{text}' has a decimal comma: write it with a point, e.g. {text.replace(',', '.')}."
    if "," in text:
        return f"'{text}' has a comma: write {EXPECTED}."
    if _EXPONENT.fullmatch(text):
        return f"'{text}' is written with an exponent: write the plain number, e.g. {_plain_of(text)}."
    if _NUMBER_THEN_TEXT.fullmatch(text):
        shown = f" ({unit.strip()})" if unit.strip() else ""
        number = _PLAIN.match(text).group(0)
        return f"'{text}': enter the number only, e.g. {number}, without a unit or other text; the unit" \
               f"{shown} is fixed by the specification."
    if re.fullmatch(r"[+-]?(\.[0-9]+|[0-9]+\.)", text, re.ASCII):
        return f"'{text}': write digits on both sides of the point, e.g. 0.5 or 5.0."
    if text.startswith(">"):
        return f"'{text}': only '< N' (below the limit of quantification) can be recorded; enter the value."
    return f"'{text}' is not a number: enter {EXPECTED}."


def _plain_of(text: str) -> str:
    """The number written out, as an example; a generic one where that would be absurdly long (1e-999999)."""
    try:
        number = Decimal(text)
    except ArithmeticError:
        return "1500"
    return format(number.normalize(), "f") if abs(number.adjusted()) <= 12 else "1500"


def judge(reading: Reading, minimum: Decimal | None, maximum: Decimal | None) -> Verdict:
    """Whether a reading meets the limits (both None: a qualitative test, which passes only 'conforms').

    '< N' says the true value lies below N: it passes a maximum at or above N, fails a minimum at or above N
    (whatever it is, it is too low), and cannot be judged otherwise.
    """
    if reading.number is None:
        return Verdict.PASS if reading.value == "conforms" else Verdict.FAIL
    n = reading.number
    if reading.qualifier == BELOW:
        if minimum is not None:
            return Verdict.FAIL if n <= minimum else Verdict.UNDETERMINED
        if maximum is not None and n <= maximum:
            return Verdict.PASS
        return Verdict.UNDETERMINED
    if minimum is not None and n < minimum:
        return Verdict.FAIL
    if maximum is not None and n > maximum:
        return Verdict.FAIL
    return Verdict.PASS


def undetermined_message(reading: Reading, limits: str) -> str:
    return (f"'{reading.value}' cannot be judged against {limits}: the true value could lie on either side of "
            "the limit. Report the measured value, or a limit of quantification that settles it.")


@dataclass(frozen=True)
class Check:
    """A reported result checked against its test: refused (with `message`), or read and judged."""

    reading: Reading | None
    verdict: Verdict | None
    message: str = ""

    @property
    def refused(self) -> bool:
        return self.reading is None or self.verdict == Verdict.UNDETERMINED


def check(raw: object, *, unit: str, minimum: Decimal | None, maximum: Decimal | None, limits: str) -> Check:
    """Parse and judge one result as entry does: what would be recorded, or why it would be refused."""
    qualitative = minimum is None and maximum is None
    try:
        reading = parse(raw, unit=unit, qualitative=qualitative)
    except ResultRefused as exc:
        return Check(None, None, str(exc))
    verdict = judge(reading, minimum, maximum)
    if verdict == Verdict.UNDETERMINED:
        return Check(reading, verdict, undetermined_message(reading, limits))
    return Check(reading, verdict)
