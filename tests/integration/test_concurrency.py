"""Customers racing for the last drums through the order API never oversell, on PostgreSQL and SQLite."""
from __future__ import annotations

import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func, select, text

from shop.accounts import people as accounts
from shop.accounts.models import ApiKey
from shop.catalog.models import Variant
from shop.inventory import lots as inventory
from shop.inventory.models import Stock
from shop.ordering.models import Order
from shop.platform.extensions import db
from tests.support.api import new_api_client
from tests.support.factories import make_customer, make_lot, make_product

pytestmark = pytest.mark.slow

ADDRESS = {"name": "Goods in", "line1": "Dock 4", "city": "Hamburg", "postal_code": "20457", "country": "DE"}
DRUM, BAG = "LEU-USP-25KG", "LEU-USP-1KG"


def race(app, keys: list[str], requests: list[list[dict]]) -> list[tuple[int, list[dict], dict]]:
    """Send every order at once, one thread (and so one database connection) per request."""
    barrier = threading.Barrier(len(requests))

    def send(i: int):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/orders", json={"lines": requests[i], "shipping_address": ADDRESS},
                               headers={"Authorization": f"Bearer {keys[i % len(keys)]}",
                                        "Idempotency-Key": f"race-{i}"})
        return response.status_code, requests[i], response.get_json(silent=True) or {}

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(send, range(len(requests))))


@pytest.mark.parametrize(("backend", "threads"), [("sqlite", 12), ("postgresql", 40)], indirect=["backend"])
def test_racing_orders_never_oversell(make_app, backend, threads, caplog):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": threads + 2, "max_overflow": 0,
                                              "pool_timeout": 60})
    with app.app_context():
        product = make_product()
        make_lot(product, "LOT-EARLY", {DRUM: 10, BAG: 6}, expires_in_days=200)
        make_lot(product, "LOT-LATE", {DRUM: 7, BAG: 6}, expires_in_days=600)
        keys = []
        for n in range(8):
            keys.append(accounts.create_api_key(make_customer(f"buyer{n}@example.com", f"Buyer {n}")))
        db.session.commit()
        initial = {DRUM: 17, BAG: 12}

        rng = random.Random(20261126)
        requests = []
        for _ in range(threads):
            lines = [{"sku": DRUM, "quantity": rng.randint(1, 3)}]
            if rng.random() < 0.5:  # some orders want both pack sizes, listed in either order
                lines.append({"sku": BAG, "quantity": rng.randint(1, 2)})
                rng.shuffle(lines)
            requests.append(lines)
        assert sum(ln["quantity"] for r in requests for ln in r if ln["sku"] == DRUM) > initial[DRUM]

        caplog.set_level(logging.INFO, logger="shop.platform.tx")
        results = race(app, keys, requests)

        statuses = [status for status, _, _ in results]
        assert set(statuses) <= {201, 409}, [(s, body) for s, _, body in results if s not in (201, 409)]
        assert 201 in statuses and 409 in statuses
        accepted = {DRUM: 0, BAG: 0}
        for status, lines, body in results:
            if status == 201:
                for line in lines:
                    accepted[line["sku"]] += line["quantity"]
                assert sum(a["quantity"] for ln in body["lines"] for a in ln["allocations"]) == \
                    sum(ln["quantity"] for ln in lines)
            else:
                assert body["type"].endswith("/problems/insufficient-stock")

        db.session.expire_all()
        assert db.session.scalar(select(func.count(Order.id))) == statuses.count(201)
        for sku, units in initial.items():
            assert accepted[sku] <= units
            on_hand, allocated = db.session.execute(
                select(func.sum(Stock.on_hand), func.sum(Stock.allocated)).join(Stock.variant).where(Variant.sku == sku)
            ).one()
            assert (on_hand, allocated) == (units, accepted[sku])
        assert inventory.check_ledger() == []
        # Orders that race for the same stock rows lock them in one order: they wait, they never deadlock
        # (PostgreSQL takes a second to detect a deadlock and the order is then run again).
        assert not [r.message for r in caplog.records if "40P01" in r.getMessage()]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_simultaneous_retries_with_one_key_place_one_order(make_app, backend):
    """Eight copies of one keyed request at once: one order; every 201 is the same answer, the rest 409 busy."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 0, "pool_timeout": 60})
    with app.app_context():
        make_lot(make_product(), "LOT-ONE", {DRUM: 20})
        key = accounts.create_api_key(make_customer("retrier@example.com", "Retrier"))
        db.session.commit()
        barrier = threading.Barrier(8)
        body = {"lines": [{"sku": DRUM, "quantity": 2}], "shipping_address": ADDRESS}

        def send(_):
            client = app.test_client()
            barrier.wait()
            response = client.post("/api/v1/orders", json=body,
                                   headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "one-intent"})
            return response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed")

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(send, range(8)))

        assert {status for status, _, _ in results} <= {201, 409}, results
        placed = [answer for status, answer, _ in results if status == 201]
        assert placed and all(answer == placed[0] for answer in placed)
        assert [replayed for status, _, replayed in results if status == 201].count(None) == 1
        assert all(answer["type"].endswith("/problems/idempotency-in-flight")
                   for status, answer, _ in results if status == 409)
        db.session.expire_all()
        assert db.session.scalar(select(func.count(Order.id))) == 1
        assert db.session.scalar(select(func.sum(Stock.allocated))) == 2


def test_a_get_writes_down_its_keys_use_even_when_another_writer_committed_since_its_read_began(make_app, backend):
    """A request with an API key unused for a minute writes down its use. SQLite refuses at once, without waiting,
    to turn a read into a write once another connection has committed a change since the read began ("database is
    locked": a GET answered 500 while orders were being placed). The write has a transaction of its own: here
    another writer commits a change just before it, and the GET still answers."""
    app = make_app()
    with app.app_context():
        api = new_api_client(app.test_client(), "erp@acme.example", "Acme Nutrition")
        make_product()
        db.session.remove()
        engine = db.engine
    overtaken = []

    def commit_another_change_first(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE api_key SET last_used_at") and not overtaken:
            overtaken.append(statement)
            with engine.connect() as other:
                other.execute(text("UPDATE customer SET name = 'Renamed meanwhile'"))
                other.commit()

    event.listen(engine, "before_cursor_execute", commit_another_change_first)
    try:
        response = api.get("/api/v1/products")
    finally:
        event.remove(engine, "before_cursor_execute", commit_another_change_first)
    assert overtaken, "the key's use was not written down"
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ApiKey.last_used_at)) is not None
