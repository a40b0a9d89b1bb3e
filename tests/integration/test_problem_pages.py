"""Finding 4: every problem `type` the API answers with opens a page that says what it means and what to do."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.exceptions import default_exceptions

from shop.api.problem_types import problem_name
from shop.platform.errors import DomainError

SHOP = Path(__file__).resolve().parents[2] / "shop"


def _problem_names_in_the_code() -> set[str]:
    """Every problem name the API can answer with: literal names passed to problem_response(...), every
    DomainError's `problem`, and every HTTP error, named as the error handlers name them."""
    names: set[str] = set()
    for path in SHOP.rglob("*.py"):
        source = path.read_text()
        names.update(re.findall(r'problem_response\(\s*(?:\d+|error\.status|code),\s*"([a-z0-9-]+)"', source))
        names.update(re.findall(r'^\s+problem = "([a-z0-9-]+)"', source, re.M))
    names.update(problem_name(exc().name) for code, exc in default_exceptions.items() if code >= 400)
    return names


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_problem_type_of_an_api_error_opens_a_page(app, client):
    answer = client.get("/api/v1/orders/LS-000000-XXXXX", headers={"Authorization": "Bearer nope"})
    problem_type = answer.get_json()["type"]
    page = client.get(urlsplit(problem_type).path)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "Unauthorized" in page.text and "What to do" in page.text


def test_every_problem_the_api_can_answer_has_its_page_listing_its_fields(app, client):
    names = _problem_names_in_the_code()
    names.update(cls.problem for cls in _subclasses(DomainError))
    assert {"not-found", "validation-error", "insufficient-stock", "idempotency-key-reused",
            "idempotency-in-flight", "malformed-json", "method-not-allowed", "internal-error"} <= names
    for name in sorted(names):
        page = client.get(f"/problems/{name}")
        assert page.status_code == 200, name
        assert f"/problems/{name}" in page.text and "What to do" in page.text, name
    stock = client.get("/problems/insufficient-stock").text
    assert "short_lines" in stock and "requested" in stock and "available" in stock
    assert "errors" in client.get("/problems/validation-error").text


def test_unknown_problem_name_is_404(app, client):
    assert client.get("/problems/no-such-problem").status_code == 404


def test_openapi_document_links_every_problem_page(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    text = str(spec)
    for name in ("insufficient-stock", "validation-error", "not-found", "idempotency-key-reused"):
        assert f"/problems/{name}" in text, name
    assert spec["components"]["schemas"]["Problem"]["properties"]["type"].get("description")
    index = client.get("/problems/")
    assert index.status_code == 200 and "/problems/insufficient-stock" in index.text
