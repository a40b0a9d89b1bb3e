"""Migration 0018 on a database at 0016 with staff and a release an admin signed: everyone keeps exactly their
rights (an admin does not gain quality), and the old release keeps its signer's real role (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from shop.platform.extensions import db
from tests.support.migrations import database_at, rows

OLD_DATA = [
    "INSERT INTO staff_user (id, email, name, role, active, created_at, password_hash, session_token) VALUES "
    "(1, 'boss@shop.example', 'Boss', 'admin', true, '2026-01-01 00:00:00', 'h1', 't1'), "
    "(2, 'qa@shop.example', 'QA', 'quality', true, '2026-01-01 00:00:00', 'h2', 't2'), "
    "(3, 'ship@shop.example', '', 'fulfilment', true, '2026-01-01 00:00:00', 'h3', 't3')",
    "INSERT INTO product (id, slug, name, grade, cas_number, formula, molecular_weight, description, position, "
    "active, storage_conditions) VALUES (1, 'usp', 'L-Leucine USP', 'USP', '61-90-5', 'C6H13NO2', 131.17, '', 0, "
    "true, 'dry')",
    "INSERT INTO batch (id, product_id, lot_number, manufactured_on, expires_on, released_at, status, "
    "status_reason, received_at) VALUES (1, 1, 'L-OLD', '2026-01-01', '2029-01-01', '2026-02-01 00:00:00', "
    "'released', '', '2026-01-02 00:00:00'), (2, 1, 'L-NEW', '2026-01-01', '2029-01-01', '2026-02-01 00:00:00', "
    "'released', '', '2026-01-02 00:00:00')",
    "INSERT INTO lot_signature (id, batch_id, action, staff_id, signer_name, signer_email, meaning, signed_at, "
    "independent) VALUES (1, 1, 'release', 1, 'Boss', 'boss@shop.example', 'I release lot L-OLD.', "
    "'2026-02-01 00:00:00', true), (2, 2, 'release', 2, 'QA', 'qa@shop.example', 'I release lot L-NEW.', "
    "'2026-02-01 00:00:00', true)",
]


@pytest.fixture
def old_database(backend, migrated_urls, tmp_path):
    """A database URL at revision 0016 (one role per staff user) holding OLD_DATA."""
    yield from database_at("0016", OLD_DATA, backend, migrated_urls, tmp_path)


def test_every_staff_user_keeps_their_role_and_an_old_release_keeps_its_signers_role(old_database):
    app, url = old_database
    with app.app_context():
        upgrade()  # to the head: the checks below read through today's models
        db.engine.dispose()
    assert rows(url, "SELECT staff_user_id, role FROM staff_user_role ORDER BY staff_user_id, role") == [
        (1, "admin"), (2, "quality"), (3, "fulfilment")]
    assert rows(url, "SELECT id, signer_role FROM lot_signature ORDER BY id") == [(1, "admin"), (2, "quality")]
    with app.app_context():
        from shop.accounts.models import StaffRole, StaffUser
        from shop.quality.coa import get_certificate

        boss = db.session.get(StaffUser, 1)
        assert boss.has_role(StaffRole.WAREHOUSE) and not boss.holds(StaffRole.QUALITY)
        assert get_certificate("L-OLD").release.capacity == "admin (not the quality unit)"
        assert get_certificate("L-NEW").release.capacity == "quality unit"
        db.session.remove()
        db.engine.dispose()


def test_the_migration_goes_back_down_to_one_role_each(old_database):
    app, url = old_database
    with app.app_context():
        upgrade(revision="0018")
        db.engine.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:  # the admin was given quality as well: going down keeps admin
        conn.execute(text("INSERT INTO staff_user_role (staff_user_id, role) VALUES (1, 'quality')"))
    engine.dispose()
    with app.app_context():
        downgrade(revision="0016")
        db.engine.dispose()
    assert rows(url, "SELECT id, role FROM staff_user ORDER BY id") == [(1, "admin"), (2, "quality"),
                                                                         (3, "fulfilment")]
