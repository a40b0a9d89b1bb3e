"""Operations: /healthz, /readyz, Prometheus metrics, JSON logs with a request id sent back as X-Request-ID."""
from __future__ import annotations

import io
import json
import logging
import re
import threading

import pytest
import requests
from flask import url_for
from werkzeug.serving import make_server

from shop import create_app
from shop.platform.logs import redact_tokens
from tests.conftest import _test_config
from tests.support.factories import make_customer
from tests.support.mail import free_port
from tests.support.metrics import metric_sample
from tests.support.storefront import sign_in

REDIS_URL = "redis://127.0.0.1:6379/11"


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.get_json()["checks"] == {"database": "ok", "vat_rate": "ok"}


def test_readyz_is_503_naming_a_shop_country_without_a_vat_rate(make_app):
    # A valid country code (start-up accepts it) that the vat_rate table has no rate for: every order would fail.
    response = make_app(SHOP_COUNTRY="CH").test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["vat_rate"].startswith("no standard VAT rate for SHOP_COUNTRY CH")


def test_readyz_is_503_before_the_database_is_migrated(tmp_path):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["vat_rate"].startswith("cannot be checked")


def test_readyz_is_503_naming_the_database_when_it_is_unreachable():
    app = create_app(_test_config("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["database"] == "unreachable"


def test_readyz_checks_redis_when_it_is_used_and_stays_ready_without_it(make_app):
    reachable = make_app(REDIS_URL=REDIS_URL).test_client().get("/readyz")
    assert reachable.status_code == 200 and reachable.get_json()["checks"]["redis"] == "ok"
    down = make_app(REDIS_URL="redis://127.0.0.1:1/0").test_client().get("/readyz")
    assert down.status_code == 200 and down.get_json()["checks"] == {"database": "ok", "vat_rate": "ok",
                                                                  "redis": "degraded"}


@pytest.mark.own_app
def test_metrics_count_requests_by_endpoint_and_status_with_latency_orders_and_failed_sign_ins(app, client, api,
                                                                                              stocked):
    make_customer()
    assert api.order().status_code == 201
    sign_in(client, password="guess guess")
    client.get("/products/l-leucine-usp")
    client.get("/no-such-page")
    metrics = client.get("/metrics").text
    assert metric_sample(metrics, "flask_http_request_duration_seconds_count", endpoint="orders.Orders", status="201",
                   method="POST") == 1
    assert metric_sample(metrics, "flask_http_request_duration_seconds_count", endpoint="storefront.product",
                   status="200") == 1
    assert metric_sample(metrics, "flask_http_request_duration_seconds_bucket", endpoint="storefront.product",
                   status="200", le="+Inf") == 1
    assert metric_sample(metrics, "shop_orders_placed_total", channel="api") == 1
    assert metric_sample(metrics, "shop_signin_failures_total", side="customer") == 1
    assert metric_sample(metrics, "flask_http_request_total", status="404") >= 1


def test_every_answer_carries_a_request_id_and_a_sane_incoming_one_is_kept(client):
    mine = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a-42"})
    assert mine.headers["X-Request-ID"] == "lb-7f3a-42"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces" + "x" * 100})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    assert client.get("/no-such-page").headers["X-Request-ID"]


def test_logs_are_json_lines_carrying_the_request_id(client, capsys):
    capsys.readouterr()
    response = client.get("/healthz", headers={"X-Request-ID": "trace-me-123"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "trace-me-123"]
    assert response.status_code == 200 and mine
    access = mine[-1]
    assert access["logger"] == "shop.access" and access["status"] == 200 and access["path"] == "/healthz"
    assert {"time", "level", "message", "duration_ms"} <= access.keys()


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_operations_endpoints_need_no_session_cookie(client, path):
    assert "Set-Cookie" not in client.get(path).headers


LINK_TOKEN = "Tk9-live-secret-token_0123456789abcdefXYZ"


def test_the_development_servers_log_never_holds_a_link_token(app, capsys):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        capsys.readouterr()
        for path in (f"/join/{LINK_TOKEN}", f"/password-reset/{LINK_TOKEN}", f"/staff/reset/{LINK_TOKEN}",
                     f"/register/{LINK_TOKEN}"):
            requests.get(f"http://127.0.0.1:{server.port}{path}", timeout=30)
    finally:
        server.shutdown()
    log = capsys.readouterr().err
    assert "GET /join/[redacted] HTTP/1.1" in log
    assert LINK_TOKEN not in log


def test_every_route_with_a_token_in_its_path_is_redacted_in_logs(app):
    with app.test_request_context():
        links = [url_for(rule.endpoint, **{name: LINK_TOKEN for name in rule.arguments})
                 for rule in app.url_map.iter_rules() if any("token" in name for name in rule.arguments)]
    assert len(links) >= 3
    assert [redact_tokens(link) for link in links] == [link.replace(LINK_TOKEN, "[redacted]") for link in links]


def test_a_handler_werkzeug_adds_of_its_own_gets_the_request_line_redacted_too(app):
    """werkzeug gives its logger a stream handler of its own when it logs before any handler exists (a development
    server started early): that handler must not get the link token either."""
    written = io.StringIO()
    own = logging.StreamHandler(written)
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.addHandler(own)
    try:
        werkzeug_log.info('127.0.0.1 - - "%s %s %s" %s -', "GET", f"/join/{LINK_TOKEN}", "HTTP/1.1", "410")
    finally:
        werkzeug_log.removeHandler(own)
    assert "/join/[redacted]" in written.getvalue() and LINK_TOKEN not in written.getvalue()
