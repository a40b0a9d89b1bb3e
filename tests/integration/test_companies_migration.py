"""Migration 0014 on a database at the schema before it, with data: every customer becomes a one-person company
that it administers, keeping its orders, API keys and idempotency records (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade

from shop.platform.extensions import db
from tests.support.migrations import database_at, rows

ACME_KEY_HASH = "a" * 64
OLD_DATA = [
    "INSERT INTO product (id, slug, name, grade, cas_number, formula, molecular_weight, description, position, "
    "active, storage_conditions) VALUES (1, 'usp', 'L-Leucine USP', 'USP', '61-90-5', 'C6H13NO2', 131.17, '', 0, "
    "true, 'dry')",
    "INSERT INTO variant (id, product_id, sku, pack_size_kg, unit_price, min_order_quantity, active) "
    "VALUES (1, 1, 'USP-25', 25, 1950, 1, true)",
    "INSERT INTO customer (id, company, email, active, created_at, password_hash, session_token) VALUES "
    "(1, 'Acme Nutrition', 'a@example.com', true, '2026-01-01 00:00:00', 'hash-a', 'ta'), "
    "(2, 'Brawn Labs', 'b@example.com', false, '2026-01-02 00:00:00', 'hash-b', 'tb')",
    f"INSERT INTO api_key (id, customer_id, prefix, key_hash, name, created_at) VALUES "
    f"(1, 1, 'lsk_acme', '{ACME_KEY_HASH}', 'ERP', '2026-01-03 00:00:00'), "
    f"(2, 2, 'lsk_brwn', '{'b' * 64}', '', '2026-01-03 00:00:00')",
    "INSERT INTO \"order\" (id, number, customer_id, status, currency, subtotal, total, ship_name, ship_line1, "
    "ship_line2, ship_city, ship_postal_code, ship_country, purchase_order, tracking_reference, needs_attention, "
    "attention_note, placed_at) VALUES "
    "(1, 'LS-A1', 1, 'pending', 'EUR', 1950, 1950, 'n', 'l', '', 'c', 'p', 'DE', '', '', false, '', "
    "'2026-02-01 00:00:00'), "
    "(2, 'LS-B1', 2, 'shipped', 'EUR', 1950, 1950, 'n', 'l', '', 'c', 'p', 'DE', 'PO-9', 'T1', false, '', "
    "'2026-02-02 00:00:00')",
    "INSERT INTO order_line (id, order_id, position, variant_id, sku, quantity, unit_price, line_total, "
    "cancelled_quantity) VALUES (1, 1, 0, 1, 'USP-25', 1, 1950, 1950, 0), (2, 2, 0, 1, 'USP-25', 1, 1950, 1950, 0)",
    "INSERT INTO order_status_change (order_id, to_status, at, customer_id, note) VALUES "
    "(1, 'pending', '2026-02-01 00:00:00', 1, 'Order placed')",
    "INSERT INTO idempotency_record (customer_id, key, method, path, fingerprint, response_status, response_body, "
    "response_headers, created_at) VALUES (1, 'k-1', 'POST', '/api/v1/orders', 'f', 201, '{}', '{}', "
    "'2026-02-01 00:00:00')",
]


@pytest.fixture
def old_database(backend, migrated_urls, tmp_path):
    """A database URL at revision 0015 (the schema before companies) holding OLD_DATA."""
    yield from database_at("0015", OLD_DATA, backend, migrated_urls, tmp_path,
                           sequences=("product", "variant", "customer", "api_key", '"order"', "order_line"))


def test_every_customer_becomes_the_admin_of_its_own_company_keeping_orders_keys_and_records(old_database):
    app, url = old_database
    with app.app_context():
        upgrade()
        db.engine.dispose()
    assert rows(url, "SELECT id, name, payment_terms, credit_limit, approval_threshold FROM company ORDER BY id") \
        == [(1, "Acme Nutrition", "prepaid", None, None), (2, "Brawn Labs", "prepaid", None, None)]
    assert rows(url, "SELECT email, company_id, role, active, password_hash, session_token FROM customer "
                      "ORDER BY id") == [("a@example.com", 1, "admin", True, "hash-a", "ta"),
                                         ("b@example.com", 2, "admin", False, "hash-b", "tb")]
    assert rows(url, "SELECT prefix, company_id, customer_id, role, revoked_at FROM api_key ORDER BY id") == [
        ("lsk_acme", 1, 1, "buyer", None), ("lsk_brwn", 2, 2, "buyer", None)]
    assert rows(url, 'SELECT number, company_id, customer_id, status FROM "order" ORDER BY id') == [
        ("LS-A1", 1, 1, "pending"), ("LS-B1", 2, 2, "shipped")]
    assert rows(url, "SELECT price_list_id FROM order_line") == [(None,), (None,)]
    assert rows(url, "SELECT company_id, key, response_status FROM idempotency_record") == [(1, "k-1", 201)]


def test_after_the_migration_the_company_sees_its_orders_and_a_new_company_gets_a_fresh_id(old_database):
    app, url = old_database
    with app.app_context():
        upgrade()
        from shop import ordering
        from shop.accounts import people as accounts
        from shop.accounts.models import ApiKey

        assert [o.number for o in ordering.list_orders(company_id=1)] == ["LS-A1"]
        new = accounts.create_customer("c@example.com", "a long unusual passphrase", "Cobalt Foods")
        db.session.commit()
        assert new.company.id == 3 and new.role == "admin"
        key = db.session.get(ApiKey, 1)
        assert (key.company_id, key.role) == (1, "buyer")
        db.session.remove()
        db.engine.dispose()


def test_the_migration_goes_back_down_to_one_login_per_company(old_database):
    app, url = old_database
    with app.app_context():
        upgrade()
        downgrade(revision="0015")
        db.engine.dispose()
    assert rows(url, "SELECT email, company FROM customer ORDER BY id") == [("a@example.com", "Acme Nutrition"),
                                                                            ("b@example.com", "Brawn Labs")]
    assert rows(url, 'SELECT number, customer_id FROM "order" ORDER BY id') == [("LS-A1", 1), ("LS-B1", 2)]
