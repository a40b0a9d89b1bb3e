"""Two app servers (real gunicorn processes, two workers each) sharing the real Redis: a sign-in throttle holds across
them, and each server's /metrics adds up what all of its workers counted."""
from __future__ import annotations

import http.cookiejar
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis

from tests.support.factories import make_customer
from tests.support.gunicorn import Server, migrated_sqlite, production_env
from tests.support.metrics import metric_sample

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def shared_redis():
    """Redis database 11 with a key prefix of this test's own; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("SHOP_REQUIRE_REDIS") == "1":
            pytest.fail("SHOP_REQUIRE_REDIS=1 but Redis does not answer at 127.0.0.1:6379")
        pytest.skip("needs Redis at 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


class Browser:
    """A cookie-keeping HTTP client that signs in through the real form, CSRF token and all."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def sign_in(self, server: Server, email: str, password: str) -> int:
        with self.opener.open(server.url + "/sign-in", timeout=30) as page:
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.read().decode()).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
        try:
            with self.opener.open(server.url + "/sign-in", data=data, timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def two_servers(tmp_path, shared_redis):
    url = migrated_sqlite(tmp_path, make_customer)
    servers = []
    for name in ("a", "b"):
        metrics = tmp_path / f"metrics-{name}"
        metrics.mkdir()
        env = production_env(DATABASE_URL=url, REDIS_URL=REDIS_URL, RATELIMIT_KEY_PREFIX=shared_redis,
                             RATELIMIT_SIGNIN_FAILURES="3 per hour", PROMETHEUS_MULTIPROC_DIR=str(metrics),
                             LOG_LEVEL="WARNING")
        servers.append(Server(env, tmp_path / f"gunicorn-{name}.log"))
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_sign_in_throttle_holds_across_two_servers_sharing_redis(two_servers):
    a, b = two_servers
    attacker = Browser()
    assert attacker.sign_in(a, "buyer@example.com", "guess one") == 422
    assert attacker.sign_in(a, "buyer@example.com", "guess two") == 422
    assert attacker.sign_in(b, "buyer@example.com", "guess three") == 422
    # Three failures in all, counted in Redis: both servers now pause this account from this address.
    assert attacker.sign_in(b, "buyer@example.com", "guess four") == 429
    assert attacker.sign_in(a, "buyer@example.com", "correct horse") == 429
    # Another account from the same address is not affected.
    assert attacker.sign_in(a, "nobody@example.com", "guess") == 422

    # Each server's /metrics sums its two workers: server a saw three failed sign-ins, server b one.
    with urllib.request.urlopen(a.url + "/metrics", timeout=30) as answer:
        on_a = answer.read().decode()
    with urllib.request.urlopen(b.url + "/metrics", timeout=30) as answer:
        on_b = answer.read().decode()
    assert metric_sample(on_a, "shop_signin_failures_total", side="customer") == 3
    assert metric_sample(on_b, "shop_signin_failures_total", side="customer") == 1
    assert metric_sample(on_a, "flask_http_request_duration_seconds_count", endpoint="storefront.login",
                   status="422", method="POST") == 3
    assert metric_sample(on_a, "flask_http_request_duration_seconds_count", endpoint="storefront.login",
                   status="429", method="POST") == 1
