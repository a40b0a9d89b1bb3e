"""Migration 0025 on a database at 0022 holding an endpoint: it keeps its secret and signs with it alone (no
previous secret), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade

from shop.platform.extensions import db
from tests.integration.test_webhook_makers_migration import ENDPOINT
from tests.support.migrations import database_at, rows

OLD_DATA = [
    "INSERT INTO company (id, name, vat_id, billing_line1, billing_line2, billing_city, billing_postal_code, "
    "billing_country, payment_terms, created_at) VALUES (1, 'Acme', '', '', '', '', '', '', 'prepaid', "
    "'2026-01-01 00:00:00')",
    "INSERT INTO customer (id, email, active, created_at, password_hash, session_token, company_id, role, name) "
    "VALUES (1, 'admin@acme.example', true, '2026-01-01 00:00:00', 'h', 't1', 1, 'admin', '')",
    ENDPOINT.format(id=1, customer=1, enabled="true"),
]


@pytest.fixture
def old_database(backend, migrated_urls, tmp_path):
    """A database URL at revision 0022 (one secret per endpoint) holding OLD_DATA."""
    yield from database_at("0022", OLD_DATA, backend, migrated_urls, tmp_path, sequences=["webhook_endpoint"])


def test_an_endpoint_keeps_its_secret_and_has_no_previous_one(old_database):
    app, url = old_database
    with app.app_context():
        upgrade(revision="0025")
        db.engine.dispose()
    assert rows(url, "SELECT id, secret, previous_secret, previous_secret_expires_at, enabled FROM webhook_endpoint") \
        == [(1, "whsec_x", None, None, True)]
