"""Migration 0024 on a database at 0022: each idempotency record takes its customer's company; where two members
of one company had used the same key, the oldest record stays (SQLite and PostgreSQL); the keys then work per
company through the API."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from shop.platform.extensions import db
from tests.support.migrations import database_at, rows

RECORD = "INSERT INTO idempotency_record (id, customer_id, key, method, path, fingerprint, response_status, " \
         "response_body, response_headers, created_at) VALUES ({id}, {customer}, '{key}', 'PLACE', " \
         "'ordering.place', 'f{id}', NULL, '{{\"number\": \"LS-{id}\"}}', NULL, '{at}')"
OLD_DATA = [
    "INSERT INTO company (id, name, vat_id, billing_line1, billing_line2, billing_city, billing_postal_code, "
    "billing_country, payment_terms, created_at) VALUES "
    "(1, 'Acme', '', '', '', '', '', '', 'prepaid', '2026-01-01 00:00:00'), "
    "(2, 'Rival', '', '', '', '', '', '', 'prepaid', '2026-01-01 00:00:00')",
    "INSERT INTO customer (id, email, active, created_at, password_hash, session_token, company_id, role, name) "
    "VALUES (1, 'admin@acme.example', true, '2026-01-01 00:00:00', 'h', 't1', 1, 'admin', ''), "
    "(2, 'buyer@acme.example', true, '2026-01-01 00:00:00', 'h', 't2', 1, 'buyer', ''), "
    "(3, 'buyer@rival.example', true, '2026-01-01 00:00:00', 'h', 't3', 2, 'admin', '')",
    *(RECORD.format(id=n, customer=customer, key=key, at=at) for n, customer, key, at in [
        (1, 2, "shared", "2026-12-05 06:00:02"),  # the newer of Acme's two 'shared': deleted
        (2, 1, "shared", "2026-12-05 06:00:01"),  # the older: stays
        (3, 3, "shared", "2026-12-05 06:00:03"),  # another company's: stays
        (4, 1, "tied", "2026-12-05 06:00:00"), (5, 2, "tied", "2026-12-05 06:00:00"),  # same time: the lower id
        (6, 2, "alone", "2026-12-05 06:00:00"),
    ]),
]


@pytest.fixture
def old_database(backend, migrated_urls, tmp_path):
    """A database URL at revision 0022 (keys per customer) holding OLD_DATA."""
    yield from database_at("0022", OLD_DATA, backend, migrated_urls, tmp_path,
                           sequences=("company", "customer", "idempotency_record"))


def test_records_take_their_customers_company_and_the_oldest_of_a_companys_key_stays(old_database):
    app, url = old_database
    with app.app_context():
        upgrade(revision="0024")
        db.engine.dispose()
    assert rows(url, "SELECT id, company_id, key FROM idempotency_record ORDER BY id") == [
        (2, 1, "shared"), (3, 2, "shared"), (4, 1, "tied"), (6, 1, "alone")]
    # The key is unique per company now.
    engine = create_engine(url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO idempotency_record (company_id, key, method, path, fingerprint, "
                          "created_at) VALUES (1, 'alone', 'PLACE', 'ordering.place', 'f', '2026-12-05 07:00:00')"))
    engine.dispose()


def test_the_migration_goes_back_with_each_record_at_its_companys_first_member(old_database):
    app, url = old_database
    with app.app_context():
        upgrade(revision="0024")
        downgrade(revision="0022")
        db.engine.dispose()
    assert rows(url, "SELECT id, customer_id, key FROM idempotency_record ORDER BY id") == [
        (2, 1, "shared"), (3, 3, "shared"), (4, 1, "tied"), (6, 1, "alone")]
