"""Migration 0021 on a database at 0019: an endpoint whose maker was already removed, or is no longer an admin, is
disabled with the reason; an admin's stays enabled; one disabled before (for failing) gets its reason too (SQLite
and PostgreSQL)."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade

from shop.platform.extensions import db
from tests.support.migrations import database_at, rows

ENDPOINT = "INSERT INTO webhook_endpoint (id, customer_id, url, events, description, secret, enabled, created_at) " \
           "VALUES ({id}, {customer}, 'https://erp.example.com/{id}', '*', '', 'whsec_x', {enabled}, " \
           "'2026-01-01 00:00:00')"
OLD_DATA = [
    "INSERT INTO company (id, name, vat_id, billing_line1, billing_line2, billing_city, billing_postal_code, "
    "billing_country, payment_terms, created_at) VALUES (1, 'Acme', '', '', '', '', '', '', 'prepaid', "
    "'2026-01-01 00:00:00')",
    "INSERT INTO customer (id, email, active, created_at, password_hash, session_token, company_id, role, name) "
    "VALUES (1, 'admin@acme.example', true, '2026-01-01 00:00:00', 'h', 't1', 1, 'admin', ''), "
    "(2, 'gone@acme.example', false, '2026-01-01 00:00:00', 'h', 't2', 1, 'admin', ''), "
    "(3, 'demoted@acme.example', true, '2026-01-01 00:00:00', 'h', 't3', 1, 'buyer', '')",
    *(ENDPOINT.format(id=n, customer=customer, enabled=enabled)
      for n, customer, enabled in [(1, 1, "true"), (2, 2, "true"), (3, 3, "true"), (4, 1, "false")]),
]


@pytest.fixture
def old_database(backend, migrated_urls, tmp_path):
    """A database URL at revision 0019 (endpoints outlive their makers) holding OLD_DATA."""
    yield from database_at("0019", OLD_DATA, backend, migrated_urls, tmp_path, sequences=["webhook_endpoint"])


def test_endpoints_of_makers_removed_or_demoted_before_are_disabled_with_a_reason(old_database):
    app, url = old_database
    with app.app_context():
        upgrade(revision="0021")
        db.engine.dispose()
    found = rows(url, "SELECT id, enabled, disabled_at IS NOT NULL, disabled_reason FROM webhook_endpoint ORDER BY id")
    assert [(n, bool(enabled), bool(stamped)) for n, enabled, stamped, _ in found] == [
        (1, True, False), (2, False, True), (3, False, True), (4, False, False)]
    assert found[0][3] is None and "no longer a company admin" in found[1][3] == found[2][3]
    assert "failed" in found[3][3]
