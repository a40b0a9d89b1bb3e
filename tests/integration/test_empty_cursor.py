"""`?cursor=` left empty (as a client that always sends the parameter does on its first call) is the first page on
every list of the API, not a 422; a damaged cursor is still refused."""
from __future__ import annotations

import pytest

from shop.platform.extensions import db
from tests.support.api import admin_key, assert_problem
from tests.support.events import run_worker
from tests.support.factories import make_product


@pytest.fixture
def app(make_app):
    """Deliveries may go to the local receiver and retries come at once (for a delivery log of two attempts)."""
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, WEBHOOK_RETRY_SCHEDULE=[0.0, 0.0, 0.0], OUTBOX_SWEEP_AFTER_SECONDS=0)
    with app.app_context():
        yield app
        db.session.remove()


def assert_first_page(api, path: str) -> None:
    """`path` with `?cursor=` (empty, alone and with a limit) answers what it answers without the cursor, and the
    next page follows from it as usual."""
    first = api.get(f"{path}?limit=1")
    assert first.status_code == 200 and first.get_json()["items"], first.get_json()
    for query in ("?cursor=", "?limit=1&cursor=", "?cursor=&limit=1", "?cursor=%20"):
        expected = first if "limit" in query else api.get(path)
        response = api.get(f"{path}{query}")
        assert response.status_code == 200, (query, response.get_json())
        assert response.get_json() == expected.get_json(), query
    following = api.get(f"{path}?limit=1&cursor={first.get_json()['next_cursor']}")
    assert following.status_code == 200 and following.get_json()["items"] != first.get_json()["items"]
    assert_problem(api.get(f"{path}?cursor=not-a-cursor"), 422, "validation-error")


def test_an_empty_cursor_is_the_first_page_of_products(api):
    make_product()
    make_product(slug="l-leucine-fcc", grade="FCC", sku_prefix="LEU-FCC")
    assert_first_page(api, "/api/v1/products")


def test_an_empty_cursor_is_the_first_page_of_orders(api, stocked):
    for _ in range(2):
        assert api.order().status_code == 201
    assert_first_page(api, "/api/v1/orders")
    assert api.get("/api/v1/orders?status=pending&cursor=").get_json() == api.get(
        "/api/v1/orders?status=pending").get_json()


def test_an_empty_cursor_is_the_first_page_of_deliveries(api, stocked, receiver):
    receiver.statuses = [500]  # the first attempt fails, the retry succeeds: two attempts in the log
    endpoint = admin_key(api).post("/api/v1/webhook-endpoints",
                                   json={"url": receiver.url, "events": ["order.placed"]}).get_json()
    api.order()
    run_worker(lambda: len(receiver.received) >= 2)
    assert_first_page(api, f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries")
