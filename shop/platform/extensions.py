"""Extension objects, created unbound here and bound to the app in create_app()."""
from __future__ import annotations

from flask import has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from shop.platform.database import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
rest_api = Api()
# Named mailman: a `mail` attribute on the package would shadow the shop.platform.mail module.
mailman = Mail()
# Storage, strategy and the limits themselves come from the app's config (RATELIMIT_*, shop/config.py).
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Make SQLite behave: foreign keys on, wait for locks, WAL for concurrent readers."""
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    # Take transaction control away from pysqlite so that "begin" below can say IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin_immediate(conn) -> None:
    """Take SQLite's write lock at BEGIN, so two writers serialise instead of failing mid-way.

    Requests that only read (GET, HEAD) begin DEFERRED instead, so that in WAL mode they run side by
    side with each other and with one writer.
    """
    if conn.dialect.name != "sqlite":
        return
    reading = has_request_context() and request.method in ("GET", "HEAD")
    conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
