"""#22 item 7 (platform settings): production refuses to start without a mail server rather than print reset links
to a console; a Host in upper case is the same host; /metrics can require a token."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(**settings: str) -> subprocess.CompletedProcess:
    """Import wsgi (build the app, as gunicorn does) with the shop's mail settings replaced by `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAIL_") and k not in ("SHOP_ENV", "FLASK_DEBUG")}
    env.update(SECRET_KEY="test-secret", **settings)
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_production_without_a_mail_server_refuses_to_start_saying_so():
    refused = _start()
    assert refused.returncode != 0
    assert "MAIL_SERVER is not set" in refused.stderr and "Traceback" not in refused.stderr
    assert _start(MAIL_SERVER="smtp.example.com").returncode == 0
    assert _start(SHOP_ENV="development").returncode == 0  # make run prints e-mail to its console, as before


def test_a_host_header_in_upper_case_is_the_trusted_host(make_app):
    client = make_app(TRUSTED_HOSTS=["shop.example.com"]).test_client()
    assert client.get("/healthz", headers={"Host": "SHOP.EXAMPLE.COM"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "Shop.Example.Com:443"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "EVIL.EXAMPLE"}).status_code == 400


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic bWV0cmljcy10b2tlbi0xMjM0NQ==",
                                           "Bearer metrics-token-12345x"])
def test_metrics_with_a_token_set_refuse_requests_without_it(make_app, authorization):
    client = make_app(METRICS_TOKEN="metrics-token-12345").test_client()
    headers = {"Authorization": authorization} if authorization else {}
    refused = client.get("/metrics", headers=headers)
    assert refused.status_code == 401 and "flask_http_request" not in refused.text
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_metrics_with_a_token_set_answer_requests_bearing_it(make_app):
    client = make_app(METRICS_TOKEN="metrics-token-12345").test_client()
    client.get("/healthz")
    answer = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-12345"})
    assert answer.status_code == 200 and "flask_http_request_total" in answer.text
