"""SQL text helpers: LIKE patterns for searches, and literals for statements that are built once and reused (the
order path's).

What is the same for every execution (an enum value, a constant) goes into the SQL text rather than a bind
parameter: the statement stays under psycopg's limits for preparing it once (4096 characters, 50 parameters).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, literal, literal_column
from sqlalchemy.dialects import postgresql


def like_pattern(text: str, *, prefix_only: bool = False) -> str:
    """A LIKE pattern (with escape '\\') that matches `text` literally: inside a value, or at its start only."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%" if prefix_only else "%" + escaped + "%"


def sql_literal(value: object, type_) -> ColumnElement:
    """`value` written into the SQL text as a literal of `type_`, not sent as a bind parameter."""
    sql = literal(value, type_).compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return literal_column(str(sql), type_)
