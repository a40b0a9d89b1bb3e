"""Running the order path's prebuilt Core statements with as little per-execution work as possible.

Placing an order through the API costs three statements (the API key with the Idempotency-Key's record,
the pack sizes with their lots, and the write), each built once as a Core statement. Executing one through
`Connection.execute` makes SQLAlchemy look it up in its compiled cache and process every bind parameter on
every call: on PostgreSQL that costs more CPU than the server spends on the read statements. There, `execute`
sends the statement's SQL, compiled once, through `Connection.exec_driver_sql` instead: still SQLAlchemy's
connection, transaction, events (statement counting) and error wrapping, minus the per-call compile-cache and
parameter work. That is only right for parameters that psycopg adapts as they are (str, int, Decimal, date,
datetime, lists of those): a constant such as an enum value goes into the SQL text with `sql_literal`.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, CursorResult, Executable, literal, literal_column
from sqlalchemy.dialects import postgresql

_COMPILED: dict[int, tuple[Executable, str, dict[str, Any]]] = {}
_PLAIN = (bool, int, str, Decimal, date)


def execute(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> CursorResult:
    """conn.execute(statement, params); on PostgreSQL the statement's SQL, compiled once, as driver SQL."""
    if conn.dialect.name != "postgresql":
        return conn.execute(statement, params)
    compiled = _COMPILED.get(id(statement))
    if compiled is None or compiled[0] is not statement:  # the statement itself is kept, so its id stays its own
        compiled = _COMPILED[id(statement)] = _compile(statement, conn)
    _, sql, fixed = compiled
    return conn.exec_driver_sql(sql, {**fixed, **params} if fixed else params)


def _compile(statement: Executable, conn: Connection) -> tuple[Executable, str, dict[str, Any]]:
    """The statement, its SQL, and the values of its bind parameters that carry their own (a LIMIT 1)."""
    compiled = statement.compile(dialect=conn.dialect)
    sql = str(compiled)
    if "POSTCOMPILE" in sql:
        raise ValueError("an expanding IN parameter is rendered per call: use = ANY(array) instead")
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
