"""/healthz (the process answers) and /readyz (it can serve: the database reachable, and every check a business area
registered passing, such as a VAT rate for the seller's country; Redis, when used, reported as "ok" or "degraded",
never a reason to take the server out of rotation)."""
from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from flask import Blueprint, Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shop.platform.config import redis_timeouts
from shop.platform.extensions import db

health_bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def register_readiness_check(app: Flask, name: str, check: Callable[[], str]) -> None:
    """Make /readyz also ask `check` (run once the database answers): "ok", or what keeps this server from serving,
    in words an operator can act on; anything but "ok" takes the server out of rotation."""
    app.extensions.setdefault("shop_readiness_checks", {})[name] = check


@health_bp.get("/healthz")
def healthz():
    """The process is up; a load balancer restarts it when this stops answering."""
    return {"status": "ok"}


@health_bp.get("/readyz")
def readyz():
    """Whether this server can take requests: 200, or 503 when the database is unreachable or a registered check
    fails (a setting the data cannot serve, which start-up cannot see before the database is migrated).

    Without Redis the shop still serves (rate limits count in each process's memory, events wait in the outbox for
    the sweep), so Redis is reported as degraded but taking every server out of rotation for it would be worse.
    """
    checks = {"database": _database_ok()}
    if checks["database"] == "ok":
        for name, check in current_app.extensions.get("shop_readiness_checks", {}).items():
            checks[name] = _run(name, check)
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _redis_ok()
    ready = all(state == "ok" for name, state in checks.items() if name != "redis")
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503


def _run(name: str, check: Callable[[], str]) -> str:
    try:
        return check()
    except SQLAlchemyError as exc:  # e.g. a database not migrated yet
        log.warning("Readiness: the %s check could not read the database: %s", name, type(exc.orig or exc).__name__)
        db.session.rollback()
        return "cannot be checked: the database has no answer (is it migrated? flask db upgrade)"


def _database_ok() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        log.warning("Readiness: the database is unreachable: %s", type(exc.orig or exc).__name__)
        db.session.rollback()
        return "unreachable"


def _redis_ok() -> str:
    client = current_app.extensions.get("shop_redis_ping")
    if client is None:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"], **redis_timeouts())
        current_app.extensions["shop_redis_ping"] = client
    try:
        client.ping()
        return "ok"
    except redis.RedisError as exc:
        log.warning("Readiness: Redis is unreachable or slow, the shop goes on without it: %s", exc)
        return "degraded"
