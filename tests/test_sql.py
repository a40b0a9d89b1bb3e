"""services.sql.rows: the hot path's statements as driver SQL on PostgreSQL, ordinary execution elsewhere."""
from __future__ import annotations

import pytest
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.exc import IntegrityError

from shop.extensions import db
from shop.models import Batch, BatchStatus, Customer, Variant
from shop.services.sql import rows, sql_literal
from tests.factories import make_customer


def test_rows_answer_by_column_label_and_are_seen_by_statement_listeners(app, backend):
    customer = make_customer("rows@example.com", "Rows Ltd")
    db.session.commit()
    statement = select(Customer.id.label("customer_id"), Customer.email).where(Customer.id == bindparam("id"))
    seen = []

    def listener(conn, cursor, sql, parameters, context, executemany):
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = rows(db.session.connection(), statement, {"id": customer.id})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert [(r.customer_id, r.email) for r in found] == [(customer.id, "rows@example.com")]
    seen = [sql for sql in seen if not sql.startswith("BEGIN")]  # SQLite's BEGIN IMMEDIATE goes by cursor
    assert len(seen) == 1 and "FROM customer" in seen[0]
    assert rows(db.session.connection(), statement, {"id": -1}) == []


def test_a_database_error_is_raised_as_sqlalchemys_with_the_driver_error(app, backend):
    make_customer("twice@example.com", "Twice Ltd")
    db.session.commit()
    duplicate = text("INSERT INTO customer (email, company_id, role, name, password_hash, active, created_at, "
                     "session_token) VALUES (:email, (SELECT min(id) FROM company), 'admin', '', 'x', true, "
                     "CURRENT_TIMESTAMP, 'token') RETURNING id")
    with pytest.raises(IntegrityError) as raised:
        rows(db.session.connection(), duplicate, {"email": "twice@example.com"})
    assert "customer" in str(raised.value.orig)
    db.session.rollback()
    assert rows(db.session.connection(), select(Customer.email), {})  # the session goes on after the rollback


def test_statements_that_cannot_run_as_driver_sql_are_refused(app, backend):
    if backend != "postgresql":
        pytest.skip("SQLite runs every statement through SQLAlchemy")
    conn = db.session.connection()
    with pytest.raises(ValueError, match="expanding"):
        rows(conn, select(Variant.id).where(Variant.sku.in_(bindparam("skus", expanding=True))), {"skus": ["x"]})
    with pytest.raises(ValueError, match="sql_literal"):
        rows(conn, select(Batch.id).where(Batch.status == BatchStatus.RELEASED), {})
    assert rows(conn, select(Batch.id).where(Batch.status == sql_literal(BatchStatus.RELEASED, Batch.status.type)),
                {}) == []
    with pytest.raises(ValueError, match="defaults"):
        rows(conn, insert(Customer).values(email="d@example.com", company_id=1, password_hash="x"), {})
