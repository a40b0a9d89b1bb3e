"""The numbers of invoices ("INV-2026-000123") and credit notes ("CN-2026-000007"): a gap-free serial per series and
calendar year, as the tax authorities want them.

The series' counter row is counted up under its row lock in the issuing transaction itself: a second issue waits
for the first to commit (SQLite serialises writers at BEGIN IMMEDIATE anyway), and an issue that rolls back rolls
its serial back with it, so the next one takes it: no number is skipped, none is given twice."""
from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from shop.invoicing.models import InvoiceSequence
from shop.platform.extensions import db

INVOICE = "INV"
CREDIT_NOTE = "CN"
SERIES = (INVOICE, CREDIT_NOTE)
SERIAL_DIGITS = 6
# Letters and digits as ASCII spells them: a full-width digit or a dotless i is no number of ours.
_NUMBER = re.compile(rf"(?:{'|'.join(SERIES)})-\d{{4}}-\d{{{SERIAL_DIGITS},9}}", re.IGNORECASE | re.ASCII)


def format_number(series: str, year: int, serial: int) -> str:
    """A number as people read and quote it: series, year, the year's serial in at least 6 digits."""
    if series not in SERIES or not 1000 <= year <= 9999 or serial < 1:
        raise ValueError(f"no {series!r} number for year {year}, serial {serial}")
    return f"{series}-{year}-{serial:0{SERIAL_DIGITS}d}"


def parse_number(text: object) -> str | None:
    """The invoice or credit note number as stored (upper case, no spaces around) when `text` is one; None
    otherwise, so that a lookup of anything else answers NotFound without a query."""
    if not isinstance(text, str):
        return None
    found = _NUMBER.fullmatch(text.strip())
    return found[0].upper() if found else None


def next_serial(series: str, year: int) -> int:
    """The series' next serial in that year, taken in the caller's transaction (which must go on to write the
    document, and commit or roll back with it)."""
    if series not in SERIES:
        raise ValueError(f"unknown series of invoice numbers {series!r}")
    conn = db.session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # Made race-free: of two first issues of a year, the second's INSERT waits for the first and does nothing.
    conn.execute(dialect.insert(InvoiceSequence).values(series=series, year=year, last=0).on_conflict_do_nothing())
    return conn.execute(update(InvoiceSequence)
                        .where(InvoiceSequence.series == series, InvoiceSequence.year == year)
                        .values(last=InvoiceSequence.last + 1).returning(InvoiceSequence.last)).scalar_one()
