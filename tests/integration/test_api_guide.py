"""/api/v1/docs carries the integrator's guide (authentication, idempotency, pagination, resynchronising, signatures,
rate limits), and its signature snippets are the real thing: taken from the served page, the Python one (with the
`standardwebhooks` package) and the JavaScript one (node with the pinned `standardwebhooks` npm package) verify a
delivery that the shop really signed and sent, and refuse it once its body is changed."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from standardwebhooks.webhooks import WebhookVerificationError

from shop.events.types import EVENT_TYPES
from tests.integration.test_api_tools import QUIET, require_tool
from tests.support.events import app_with_local_receivers, run_worker

ROOT = Path(__file__).resolve().parents[2]
STANDARDWEBHOOKS_JS = ROOT / "node_modules" / "standardwebhooks" / "package.json"


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    yield from app_with_local_receivers(make_app)


def snippets(page: str) -> dict[str, str]:
    """The guide's code blocks by language, as a reader copies them from the page."""
    return {lang: html.unescape(code) for lang, code in
            re.findall(r'<pre><code class="language-(\w+)">(.*?)</code></pre>', page, re.S)}


@pytest.fixture
def delivery(admin_api, receiver) -> tuple[str, str, dict[str, str]]:
    """A test event the shop signed and POSTed to a local receiver: the endpoint's secret, the body as received and
    the headers (names in lower case, as a web framework hands them over)."""
    created = admin_api.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]})
    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()
    assert admin_api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test").status_code == 202
    run_worker(until=lambda: bool(receiver.received))
    received = receiver.received[0]
    return endpoint["secret"], received.body, {k.lower(): v for k, v in received.headers.items()}


def test_the_docs_page_has_every_part_of_the_guide(client):
    page = client.get("/api/v1/docs").text
    for part in ("authentication", "idempotency", "pagination", "resynchronising-after-an-outage",
                 "verifying-webhook-signatures", "rate-limits"):
        assert f'id="guide-{part}"' in page, part
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for said in ("Authorization: Bearer <api key>", "belongs to your company and is shared by every operation",
                 "(400, 413, 415, 422) keeps nothing", "an empty ?cursor=, is the first page",
                 "GET /api/v1/events?after=<event id>", "GET /api/v1/orders?updated_since=<timestamp>", "version",
                 "Retry-After", "RateLimit-Policy", "RateLimit"):
        assert said in text, said
    assert set(snippets(page)) == {"python", "javascript", "json"}
    webhooks = page[page.index('id="webhooks"'):]
    for event_type in EVENT_TYPES:
        example = re.search(rf'<summary><code>{re.escape(event_type)}</code></summary>\s*'
                            r'<pre><code class="language-json">(.*?)</code></pre>', webhooks, re.S)
        assert example and json.loads(html.unescape(example[1]))["type"] == event_type, event_type


def test_the_python_snippet_verifies_a_real_delivery_and_refuses_a_changed_one(client, delivery):
    secret, body, headers = delivery
    namespace: dict = {}
    exec(snippets(client.get("/api/v1/docs").text)["python"], namespace)  # noqa: S102 - the page's own snippet
    event = namespace["verify"](secret, body.encode(), headers)
    assert event == json.loads(body) and event["type"] == "ping" and event["id"] == headers["webhook-id"]
    with pytest.raises(WebhookVerificationError):
        namespace["verify"](secret, body.replace("ping", "pong").encode(), headers)


def test_the_javascript_snippet_verifies_a_real_delivery_and_refuses_a_changed_one(client, delivery, tmp_path):
    node = require_tool(shutil.which("node"), "node (apt-get install nodejs)")
    require_tool(STANDARDWEBHOOKS_JS, "the standardwebhooks npm package (npm ci)")
    secret, body, headers = delivery
    script = tmp_path / "verify.js"
    script.write_text(snippets(client.get("/api/v1/docs").text)["javascript"] + """
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
for (const body of input.bodies) {
  try { console.log(JSON.stringify(verify(input.secret, body, input.headers))); }
  catch (error) { console.log(JSON.stringify({ refused: String(error) })); }
}
""")
    run = subprocess.run([node, str(script)], input=json.dumps({
        "secret": secret, "headers": headers, "bodies": [body, body.replace("ping", "pong")]}),
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={**QUIET, "NODE_PATH": str(ROOT / "node_modules")})
    assert run.returncode == 0, run.stderr
    verified, changed = (json.loads(line) for line in run.stdout.splitlines())
    assert verified == json.loads(body)
    assert "refused" in changed
