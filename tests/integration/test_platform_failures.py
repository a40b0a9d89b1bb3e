"""#22 items 5 and 7 (platform): what a failing piece of infrastructure costs. A hung Redis (SIGSTOP) costs a
request milliseconds, not the server; a dropped database connection costs no request a 500."""
from __future__ import annotations

import time

import pytest
import redis
from flask import Flask
from sqlalchemy import create_engine, text

from shop.platform.extensions import db
from tests.conftest import PG_URL
from tests.support.api import new_api_client
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.redis_server import RedisServer, timed

FORM = {"email": "buyer@example.com", "password": "not the password"}


def _shop_on(make_app, server: RedisServer) -> Flask:
    """An app whose rate limits, throttles and task queue all live in `server`, as production's do."""
    return make_app(REDIS_URL=server.url, RATELIMIT_STORAGE_URI=server.url, TASK_QUEUE="redis")


def test_a_hung_redis_costs_rate_limited_requests_and_orders_milliseconds_and_readyz_stays_ready(make_app,
                                                                                                 own_redis):
    app = _shop_on(make_app, own_redis)
    client = app.test_client()
    with app.app_context():
        make_customer()
        product = make_product()
        make_lot(product, "L-1", {"LEU-USP-25KG": 10})
        api = new_api_client(client, "erp@acme.example", "Acme Nutrition")
        db.session.remove()
    assert client.post("/sign-in", data=FORM).status_code == 422
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"

    own_redis.hang()
    for _ in range(3):
        signed, seconds = timed(lambda: client.post("/sign-in", data=FORM))
        assert signed.status_code == 422 and seconds < 1.0
    ready, seconds = timed(lambda: client.get("/readyz"))
    assert ready.status_code == 200 and seconds < 1.0
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "vat_rate": "ok", "redis": "degraded"}}
    # The events wait in the outbox for the sweep; after one hand-over timed out, the next orders do not wait.
    for bound in (3.0, 0.5, 0.5):
        with app.app_context():
            placed, seconds = timed(lambda: api.order())
            db.session.remove()
        assert placed.status_code == 201 and seconds < bound

    own_redis.wake()
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"
    # The limits go back to counting in Redis, shared by every server, at Flask-Limiter's next look (seconds).
    counts = redis.Redis.from_url(own_redis.url)
    counts.flushdb()
    deadline = time.monotonic() + 30
    while not counts.keys("*") and time.monotonic() < deadline:
        client.post("/sign-in", data=FORM)
        time.sleep(0.5)
    assert counts.keys("*")
    counts.close()


def test_a_database_connection_dropped_between_requests_costs_no_request_a_500(make_app, backend):
    if backend != "postgresql":
        pytest.skip("drops a PostgreSQL server process (pg_terminate_backend)")
    app = make_app()
    client = app.test_client()
    assert client.get("/").status_code == 200
    with app.app_context():
        pooled = db.session.scalar(text("SELECT pg_backend_pid()"))  # the one connection in the app's pool
        db.session.remove()
    admin = create_engine(PG_URL)
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})
    admin.dispose()
    assert client.get("/").status_code == 200
