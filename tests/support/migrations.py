"""A database at an old revision holding rows written as that revision's schema had them, for testing a migration
on SQLite and PostgreSQL; and reading rows back with plain SQL (the models describe only the newest schema)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from shop import create_app
from shop.platform.extensions import db
from tests.conftest import PG_URL, _empty_all_tables, _reset_postgres_schema


def database_at(revision: str, statements: Sequence[str], backend: str, migrated_urls: dict[str, str], tmp_path,
                *, sequences: Sequence[str] = ()) -> Iterator[tuple[Flask, str]]:
    """Yield (app, url) of a database migrated to `revision` holding `statements`' rows; on PostgreSQL each of the
    `sequences`' tables has its id sequence set past the rows, as if they had drawn their ids from it. Afterwards the
    shared PostgreSQL test database is left as the other tests expect it: at head, empty."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}" if backend == "sqlite" else PG_URL
    if backend == "postgresql":
        _reset_postgres_schema(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(revision=revision)
        engine = create_engine(url)
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
            if backend == "postgresql":
                for table in sequences:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"(SELECT max(id) FROM {table}))"))
        engine.dispose()
    yield app, url
    if backend == "postgresql":
        with app.app_context():
            upgrade(revision="heads")
            db.engine.dispose()
        _empty_all_tables(app)
        migrated_urls["postgresql"] = url


def rows(url: str, sql: str) -> list[tuple]:
    """The rows `sql` reads, as tuples."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = [tuple(row) for row in conn.execute(text(sql))]
    engine.dispose()
    return found
