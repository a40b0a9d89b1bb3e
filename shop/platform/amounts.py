"""An amount of money as people type it, read strictly: the one parser behind a quoted price and a payment.

ASCII digits with at most two places, no sign, no exponent, no thousands separator: "1,500" is 1.5 in half of Europe
and 1500 in the other half, so it is refused, never guessed; Arabic-Indic or full-width digits ("١٠", "１０"), which
Decimal would read, are refused too, as the lab's results are (lab.results)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MAX_AMOUNT = Decimal("9999999999.99")  # what a money column (12 digits, 2 places) holds
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def parse_amount(value: object) -> Decimal | None:
    """A positive amount: a Decimal or a decimal string ("1500", "1500.5", "1500.50"), at most two places, at most
    MAX_AMOUNT; None for anything else (a float, "1,500", "1e3", "-1", "0", "1.505")."""
    if isinstance(value, Decimal):
        text = format(value, "f") if value.is_finite() else ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover (the pattern admits only digits)
        return None
    return amount if Decimal("0") < amount <= MAX_AMOUNT else None
