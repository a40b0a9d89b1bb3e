"""RateLimit-Policy and RateLimit (IETF httpapi ratelimit-headers draft) on the API's answers where a limit applies,
read with a structured-field parser: the quota and window of each limit and what is left of it after each request,
counted alike in this process's memory and in Redis (TEST_REDIS_URL)."""
from __future__ import annotations

import os

import http_sf
import pytest
import redis

from tests.support.api import admin_key, assert_problem, new_api_client
from tests.support.factories import make_lot, make_product


@pytest.fixture(params=["memory", "redis"])
def storage(request) -> dict[str, object]:
    """The limits' storage: this process's memory, or the test Redis (keys of this test's own prefix)."""
    if request.param == "memory":
        return {}
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("SHOP_REQUIRE_REDIS") == "1":
            pytest.fail("SHOP_REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("the Redis-backed limits need TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/13)")
    # Company ids start at 1 in every test: forget the counts an earlier test left (the limiter keeps the key
    # prefix of the first app it served, so a prefix of this test's own would not be used).
    client = redis.Redis.from_url(url)
    for key in client.scan_iter("LIMITS:*"):
        client.delete(key)
    client.close()
    return {"REDIS_URL": url, "RATELIMIT_STORAGE_URI": url}


def fields(response) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """The answer's RateLimit-Policy and RateLimit, parsed as RFC 9651 lists (a syntax error raises)."""
    return tuple([(name, dict(params)) for name, params in http_sf.parse(response.headers[field].encode(),
                                                                           tltype="list")]
                 for field in ("RateLimit-Policy", "RateLimit"))


def test_each_order_answer_says_the_keys_quota_and_what_is_left(make_app, storage):
    app = make_app(RATELIMIT_ORDERS="3 per minute", **storage)
    client = app.test_client()
    with app.app_context():
        make_lot(make_product(), "L-RATE", {"LEU-USP-25KG": 50})
        first = new_api_client(client, "erp@acme.example", "Acme")
        second = new_api_client(client, "erp@rival.example", "Rival")
    for left in (2, 1, 0):
        placed = first.order()
        assert placed.status_code == 201
        policy, current = fields(placed)
        assert policy == [("orders", {"q": 3, "w": 60})]
        assert [(name, params["r"]) for name, params in current] == [("orders", left)]
        assert 0 < current[0][1]["t"] <= 60
    refused = first.order()
    assert_problem(refused, 429, "too-many-requests")
    policy, current = fields(refused)
    assert policy == [("orders", {"q": 3, "w": 60})] and current[0][1]["r"] == 0
    assert abs(current[0][1]["t"] - int(refused.headers["Retry-After"])) <= 1
    # Another key has its own allowance; an answer no limit applies to says nothing of limits.
    theirs = fields(second.order())[1]
    assert [(name, params["r"]) for name, params in theirs] == [("orders", 2)] and 59 <= theirs[0][1]["t"] <= 60
    listed = first.get("/api/v1/orders")
    assert listed.status_code == 200
    assert "RateLimit" not in listed.headers and "RateLimit-Policy" not in listed.headers


def test_a_limit_of_two_windows_names_both(make_app, storage, receiver):
    app = make_app(RATELIMIT_WEBHOOK_TESTS="2 per minute;3 per hour", WEBHOOK_ALLOW_INSECURE=True, **storage)
    client = app.test_client()
    with app.app_context():
        admin = admin_key(new_api_client(client, "erp@acme.example", "Acme"))
    endpoint = admin.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}).get_json()
    assert "RateLimit" not in admin.get("/api/v1/webhook-endpoints").headers
    sent = admin.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test")
    assert sent.status_code == 202
    policy, current = fields(sent)
    assert policy == [("webhook-tests-minute", {"q": 2, "w": 60}), ("webhook-tests-hour", {"q": 3, "w": 3600})]
    assert [(name, params["r"]) for name, params in current] == [("webhook-tests-minute", 1),
                                                                 ("webhook-tests-hour", 2)]
    assert 0 < current[0][1]["t"] <= 60 and 0 < current[1][1]["t"] <= 3600
    assert admin.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test").status_code == 202
    refused = admin.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test")
    assert refused.status_code == 429
    # The full window (checked first, and the last: Flask-Limiter stops at the first full one).
    assert [(name, params["r"]) for name, params in fields(refused)[1]] == [("webhook-tests-minute", 0)]


def test_no_headers_when_limits_are_off(make_app):
    app = make_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    with app.app_context():
        make_lot(make_product(), "L-RATE", {"LEU-USP-25KG": 5})
        api = new_api_client(client, "erp@acme.example", "Acme")
    placed = api.order()
    assert placed.status_code == 201 and "RateLimit" not in placed.headers
