"""The numbers of quotes ("Q-2026-00012") and sample requests ("S-2026-00007"): a yearly serial per kind, counted
up under the row lock of its `SalesSequence` row, as complaints number theirs."""
from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from shop.platform.extensions import db
from shop.sales.models import SalesSequence

QUOTE = "Q"
SAMPLE = "S"
KINDS = (QUOTE, SAMPLE)
SERIAL_DIGITS = 5


def format_number(kind: str, year: int, serial: int) -> str:
    """A number as people read and quote it: kind, year, the year's serial in at least 5 digits."""
    if kind not in KINDS or not 1000 <= year <= 9999 or serial < 1:
        raise ValueError(f"no {kind!r} number for year {year}, serial {serial}")
    return f"{kind}-{year}-{serial:0{SERIAL_DIGITS}d}"


def parse_number(kind: str, text: object) -> str | None:
    """The number of that kind as stored (upper case, no spaces around) when `text` is one; None otherwise, so that
    a lookup of anything else answers NotFound without a query."""
    if not isinstance(text, str):
        return None
    found = re.fullmatch(rf"{kind}-(\d{{4}})-(\d{{{SERIAL_DIGITS},}})", text.strip(), re.IGNORECASE)
    return found[0].upper() if found else None


def next_number(kind: str, year: int) -> str:
    """The next number of that kind in that year. The counter row is counted up under its row lock: two requests
    at once never get one number (the second waits for the first to commit). Numbers may skip when a transaction
    that took one rolls back."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of sales number {kind!r}")
    conn = db.session.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(SalesSequence).values(kind=kind, year=year, last=0).on_conflict_do_nothing())
    serial = conn.execute(update(SalesSequence)
                          .where(SalesSequence.kind == kind, SalesSequence.year == year)
                          .values(last=SalesSequence.last + 1).returning(SalesSequence.last)).scalar_one()
    return format_number(kind, year, serial)
