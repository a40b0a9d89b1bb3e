"""Fixtures: the app on SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set), schema built
once per run by the Alembic migrations, every table emptied after each test."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from shop import create_app, jobs
from shop.inventory.lots import check_ledger
from shop.platform.extensions import db, limiter, mailman
from shop.platform.queue import init_queue
from shop.platform.storage import init_storage


def _own_database(url: str | None) -> str | None:
    """TEST_DATABASE_URL, or under pytest-xdist (`make test` runs two workers) a database of the worker's own
    next to it (`test_gw0`, `test_gw1`...), created on first use: each worker empties its tables after every test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    given = make_url(url)
    own = given.set(database=f"{given.database}_{worker}")
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(10):
            try:
                with engine.connect() as conn:
                    if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": own.database}):
                        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
                break
            except OperationalError:  # another worker is copying template1 at this moment: try again shortly
                if attempt == 9:
                    raise
                time.sleep(0.5)
    finally:
        engine.dispose()
    return own.render_as_string(hide_password=False)


PG_URL = _own_database(os.environ.get("TEST_DATABASE_URL"))
# The suite's apps and servers run as production does (no SHOP_ENV), which refuses to start without MAIL_SERVER;
# none of them may send e-mail anywhere. Tests of e-mail choose their backend (locmem, a local SMTP server).
os.environ.setdefault("MAIL_BACKEND", "dummy")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")),
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files holding a test marked `slow` first, in their order: `make test` hands its processes whole files in
    this order (--dist loadfile --no-loadscope-reorder), so that the longest start first and none is left for one
    process to walk alone at the end."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # a stable sort: each file's tests stay in order


def _test_config(url: str, **extra) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": None,
        # Tasks wait in memory until a test runs them (TaskQueue.run_pending) or starts a worker; e-mail is kept
        # in mail.outbox.
        "TASK_QUEUE": "memory",
        "MAIL_BACKEND": "locmem",
        # One PBKDF2 round instead of scrypt: hashing and checking a password costs microseconds, not 0.1 s, in a
        # suite that makes thousands of accounts and sign-ins (production's default is checked on its own).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
    }
    config.update(extra)
    return config


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory) -> dict[str, str]:
    """Database URLs by backend, lazily migrated to head the first time each is asked for."""
    return {}


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgresql" and not PG_URL:  # also when a test passes the backend indirectly
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")
    return request.param


@pytest.fixture
def database_url(backend: str, migrated_urls: dict[str, str], tmp_path_factory) -> str:
    """A database at the latest migration for this backend (built once per test run)."""
    if backend not in migrated_urls:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        else:
            url = PG_URL
            _reset_postgres_schema(url)
        app = create_app(_test_config(url))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        migrated_urls[backend] = url
    return migrated_urls[backend]


# Tables that the migrations fill with reference data (the VAT rates): kept between tests, as in production.
REFERENCE_DATA = {"vat_rate"}


def _empty_all_tables(app: Flask) -> None:
    """DELETE every row, children before parents, and start every id sequence at 1 again. (Not TRUNCATE: a test
    leaves a handful of rows, and TRUNCATE gives each of some hundred tables and indexes a new file, which cost
    PostgreSQL more than the test itself.)"""
    with app.app_context():
        db.session.remove()
        deletes = [f'DELETE FROM "{t.name}"' for t in reversed(db.metadata.sorted_tables)
                   if t.name not in REFERENCE_DATA]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                sequences = conn.scalars(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
                restarts = [f"SELECT setval('\"{name}\"', 1, false)" for name in sequences]
                conn.exec_driver_sql("; ".join(deletes + restarts))  # one round trip
            else:
                for delete in deletes:
                    conn.exec_driver_sql(delete)
        db.engine.dispose()


def _ledger_mismatches(app: Flask) -> list:
    with app.app_context():
        db.session.remove()
        try:
            return check_ledger()
        finally:
            db.session.remove()


def _environment() -> frozenset:
    """The environment variables create_app may read (not pytest's own, which name the test running)."""
    return frozenset(item for item in os.environ.items() if not item[0].startswith("PYTEST_"))


@dataclass
class _SharedApp:
    """An app built once for the tests that ask for a plain one, and what it held when it was new."""
    app: Flask
    config: dict
    extensions: dict
    classes: dict


# The attributes tests replace on an app (a signed-in staff client, a recording request).
_APP_CLASSES = ("test_client_class", "request_class")


@dataclass
class SharedApps:
    """One plain app per database, shared by the tests of this process that run in the environment it started with
    (building one costs 0.15 s, most of a short test). `_renewed` gives each test the app as it was new."""
    environment: frozenset
    apps: dict[str, _SharedApp]


@pytest.fixture(scope="session")
def shared_apps() -> SharedApps:
    return SharedApps(_environment(), {})


def _renewed(shared: _SharedApp, **per_test) -> Flask:
    """The shared app with its settings and extensions as they were when it was built, and built anew what a test
    fills: its mail outbox, task queue, rate-limit counts and documents folder (create_app's own calls)."""
    app = shared.app
    app.config.clear()
    app.config.update(shared.config, **per_test)
    app.extensions.clear()
    app.extensions.update(shared.extensions)  # what was added since (the catalog cache, memos) is gone
    for name, value in shared.classes.items():
        setattr(app, name, value)
    init_storage(app)
    mailman.init_app(app)
    limiter.init_app(app)  # its counts live in the one Limiter, which every app built since has pointed elsewhere
    init_queue(app)
    jobs.register(app)
    return app


@pytest.fixture
def make_app(database_url: str, request, tmp_path, shared_apps: SharedApps):
    """Build an app on the test database with extra config. After the test, every stock level must still equal
    the sum of its ledger movements (what `flask shop check-ledger` checks), unless the test is marked
    `tampers_ledger`; then the tables are emptied.

    A test's first plain `make_app()` (no extra config, the environment unchanged) gets the process's shared app,
    renewed; every other call builds one, so that two calls in a test are two apps, as two processes are. A test
    that counts the app's metrics from zero or adds routes to it is marked `own_app`."""
    apps: list[Flask] = []

    def factory(**extra) -> Flask:
        plain = (not extra and not apps and not request.node.get_closest_marker("own_app")
                 and _environment() == shared_apps.environment)
        extra.setdefault("DOCUMENTS_DIR", str(tmp_path / "documents"))  # uploaded files die with the test
        shared = shared_apps.apps.get(database_url)
        if plain and shared is not None:
            app = _renewed(shared, **extra)
        else:
            app = create_app(_test_config(database_url, **extra))
            if plain:
                shared_apps.apps[database_url] = _SharedApp(app, dict(app.config), dict(app.extensions),
                                                            {name: getattr(app, name) for name in _APP_CLASSES})
        apps.append(app)
        return app

    yield factory
    if apps:
        mismatches = [] if request.node.get_closest_marker("tampers_ledger") else _ledger_mismatches(apps[0])
        _empty_all_tables(apps[0])
        if mismatches:
            pytest.fail(f"check-ledger fails after this test: {mismatches}", pytrace=False)
        for app in apps[1:]:
            with app.app_context():
                db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    """The app with an application context pushed, so tests can call services directly."""
    app = make_app()
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


from tests.support.factories import customer, product  # noqa: E402,F401  (fixtures every test may use)
from tests.support.mail import smtp_server  # noqa: E402,F401  (a real SMTP server, for the e-mail tests)
