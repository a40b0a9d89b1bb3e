"""Migration 0023 on a database at 0022 holding orders: each existing order gets version 1 and `updated_at` equal
to when it was placed, and the list by change time finds them (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade

from shop.platform.extensions import db
from tests.support.migrations import database_at, rows

ORDER = ("INSERT INTO \"order\" (id, number, company_id, customer_id, status, currency, subtotal, total, ship_name, "
         "ship_line1, ship_line2, ship_city, ship_postal_code, ship_country, purchase_order, carrier, "
         "tracking_reference, needs_attention, attention_note, placed_at) VALUES "
         "({id}, 'LS-{id}', 1, 1, '{status}', 'EUR', 1950, 1950, 'n', 'l', '', 'c', 'p', 'DE', '', '', '', false, '', "
         "'{placed_at}')")
OLD_DATA = [
    "INSERT INTO company (id, name, vat_id, billing_line1, billing_line2, billing_city, billing_postal_code, "
    "billing_country, payment_terms, created_at) VALUES (1, 'Acme', '', '', '', '', '', '', 'prepaid', "
    "'2026-01-01 00:00:00')",
    "INSERT INTO customer (id, email, active, created_at, password_hash, session_token, company_id, role, name) "
    "VALUES (1, 'admin@acme.example', true, '2026-01-01 00:00:00', 'h', 't1', 1, 'admin', '')",
    ORDER.format(id=1, status="pending", placed_at="2026-02-01 10:00:00"),
    ORDER.format(id=2, status="shipped", placed_at="2026-02-03 09:30:00"),
]


@pytest.fixture
def old_database(backend, migrated_urls, tmp_path):
    """A database URL at revision 0022 (orders without a version) holding OLD_DATA."""
    yield from database_at("0022", OLD_DATA, backend, migrated_urls, tmp_path, sequences=['"order"'])


def test_existing_orders_start_at_version_1_updated_when_placed(old_database):
    app, url = old_database
    with app.app_context():
        upgrade(revision="0023")
        db.engine.dispose()
    found = rows(url, 'SELECT id, version, updated_at = placed_at FROM "order" ORDER BY id')
    assert [(n, version, bool(same)) for n, version, same in found] == [(1, 1, True), (2, 1, True)]
    by_change = rows(url, 'SELECT id FROM "order" WHERE company_id = 1 AND updated_at > \'2026-02-02 00:00:00\' '
                          'ORDER BY updated_at, id')
    assert by_change == [(2,)]
