"""The one SQL statement counter of the suite."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from shop.platform.extensions import db

# Transaction bookkeeping that SQLite's driver sends as statements and PostgreSQL's does not: not work.
_BOOKKEEPING = ("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK TO")


@contextmanager
def count_statements(*, fresh_session: bool = False) -> Iterator[list[str]]:
    """Collect every SQL statement the app sends while the block runs (a list, to read after it). With
    `fresh_session`, start from an empty session, as a real request does: nothing the test loaded may spare it a
    query."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_BOOKKEEPING):
            seen.append(statement)

    if fresh_session:
        db.session.remove()
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
