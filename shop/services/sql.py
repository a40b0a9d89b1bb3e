"""Running the order path's prebuilt Core statements with as little per-execution work as possible.

Placing an order through the API costs three statements here (the API key with the Idempotency-Key's record,
the pack sizes with their lots, and the write; the outbox event is a fourth, an ordinary INSERT), each built
once as a Core statement. Through
`Connection.execute` SQLAlchemy then looks each one up in its compiled cache, processes every parameter and
builds a result with its metadata on every call: together about a sixth of an order's instructions
(measured with valgrind), more than PostgreSQL spends on the two reads. On PostgreSQL, `rows` instead sends the
statement's SQL, compiled once, through a cursor of the same DBAPI connection (so the same transaction),
still firing the engine's before/after_cursor_execute events (statement counting sees it) and raising
SQLAlchemy's exception classes (so services.tx retries a deadlock as before). On SQLite it is an ordinary
`Connection.execute`.

Only for statements whose parameters psycopg adapts as they are (str, int, Decimal, date, datetime, lists of
those), and whose result columns are plain values: a constant such as an enum value goes into the SQL text
with `sql_literal`, and no expanding IN.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import ColumnElement, Connection, Executable, literal, literal_column
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

_COMPILED: dict[int, tuple[Executable, str, dict[str, Any]]] = {}
_PLAIN = (bool, int, str, Decimal, date)


def rows(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
    """Every row of `statement` (columns by attribute, as SQLAlchemy's rows have them)."""
    if conn.dialect.name != "postgresql":
        return conn.execute(statement, params).all()
    compiled = _COMPILED.get(id(statement))
    if compiled is None or compiled[0] is not statement:  # the statement itself is kept, so its id stays its own
        compiled = _COMPILED[id(statement)] = _compile(statement, conn)
    _, sql, fixed = compiled
    values = {**fixed, **params} if fixed else params
    with conn.connection.driver_connection.cursor(row_factory=namedtuple_row) as cursor:
        conn.dispatch.before_cursor_execute(conn, cursor, sql, values, None, False)
        try:
            cursor.execute(sql, values)
        except psycopg.Error as error:
            invalidated = conn.dialect.is_disconnect(error, conn.connection.dbapi_connection, cursor)
            if invalidated:
                conn.invalidate(error)
            raise DBAPIError.instance(sql, values, error, psycopg.Error, connection_invalidated=invalidated,
                                      dialect=conn.dialect) from error
        conn.dispatch.after_cursor_execute(conn, cursor, sql, values, None, False)
        return cursor.fetchall()


def _compile(statement: Executable, conn: Connection) -> tuple[Executable, str, dict[str, Any]]:
    """The statement, its SQL, and the values of its bind parameters that carry their own (a LIMIT 1)."""
    compiled = statement.compile(dialect=conn.dialect)
    sql = str(compiled)
    if "POSTCOMPILE" in sql:
        raise ValueError("an expanding IN parameter is rendered per call: use = ANY(array) instead")
    if getattr(compiled, "insert_prefetch", None):
        raise ValueError("an INSERT that leaves columns to their Python-side defaults: give every column a value")
    fixed = {}
    for name, bind in compiled.binds.items():
        if bind.value is not None and not bind.required:
            if type(bind.value) not in _PLAIN:
                raise ValueError(f"bind parameter {name} holds a {type(bind.value).__name__}: write it in the SQL "
                                 "with sql_literal")
            fixed[name] = bind.value
    return statement, sql, fixed


def sql_literal(value: object, type_) -> ColumnElement:
    """`value` written into the SQL text as a literal of `type_`, not sent as a bind parameter."""
    sql = literal(value, type_).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return literal_column(str(sql), type_)
