"""The OpenAPI document's rules for every operation, applied once by an apispec plugin as each path is registered:
the error statuses an operation can answer (from what it does, not from decorators on each view), each as
problem+json with examples, `Retry-After` on 429, RateLimit headers where a limit applies, and no catch-all
`default`; examples on every request and response body (shop/api/examples.py); and the webhook payloads as
OpenAPI 3.1 `webhooks`, one per event type of shop.events.types."""
from __future__ import annotations

import re
from copy import deepcopy
from http import HTTPStatus
from typing import Any

from apispec import BasePlugin

from shop.api import examples
from shop.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from shop.api.problem_types import PROBLEM_TYPES, problem_name
from shop.api.problems import PROBLEM_MIMETYPE
from shop.events.types import EVENT_TYPES

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
EXAMPLE_BASE = "https://shop.example"
BODY_METHODS = ("post", "put", "patch")

RETRY_AFTER = {"description": "Seconds to wait before trying again.",
               "schema": {"type": "integer", "minimum": 0, "examples": [30]}}
RATELIMIT_HEADERS = {
    "RateLimit-Policy": {"description": "The limit that applies (IETF httpapi RateLimit header fields draft), "
                                        "e.g. `120;w=60`: 120 requests in a 60-second window.",
                         "schema": {"type": "string", "examples": ["120;w=60"]}},
    "RateLimit": {"description": "What is left of it: `r` requests remaining, `t` seconds until the window "
                                 "frees them, e.g. `r=118;t=60`.",
                  "schema": {"type": "string", "examples": ["r=118;t=60"]}},
}

# What each error status means, whatever the operation; a view may say more with alt_response(description=...).
STATUSES: dict[int, tuple[str, tuple[str, ...]]] = {
    400: ("A NUL character or an unpaired surrogate anywhere in the request, which no field accepts "
          "(`bad-request`), or a body that is not valid JSON (`malformed-json`); nothing was changed.",
          ("bad-request", "malformed-json")),
    401: ("No API key, or an unknown or revoked one (`unauthorized`).", ("unauthorized",)),
    403: ("The key's role does not allow this (`forbidden`); nothing was changed.", ("forbidden",)),
    404: ("Nothing of your company under this identifier (`not-found`).", ("not-found",)),
    409: ("The resource's state does not allow this (`illegal-transition`, `conflict`), or a request with the same "
          "`Idempotency-Key` is still running (`idempotency-in-flight`).",
          ("illegal-transition", "conflict", "idempotency-in-flight")),
    413: ("The body is larger than the shop accepts (1 MiB by default; `content-too-large`).", ("content-too-large",)),
    415: ("The body is not JSON: send it with `Content-Type: application/json` (`unsupported-media-type`).",
          ("unsupported-media-type",)),
    422: ("A field, parameter or header breaks a rule (`validation-error`, with `errors` by field path), or the "
          "`Idempotency-Key` was used before with another request (`idempotency-key-reused`).",
          ("validation-error", "idempotency-key-reused")),
    429: ("Too many requests (`too-many-requests`): an address that keeps sending unknown keys is slowed down, "
          "and some operations have a limit of their own. `Retry-After` says when to try again.",
          ("too-many-requests",)),
}


# Operations that answer a status with problems of their own, instead of that status's usual ones (STATUSES).
OWN_PROBLEMS: dict[str, dict[int, tuple[str, tuple[str, ...]]]] = {
    "placeOrder": {409: (
        "Not enough stock for a line (`insufficient-stock`, with `short_lines`), not enough credit left "
        "(`credit-limit-exceeded`, with `available_credit`), or a request with the same `Idempotency-Key` is still "
        "running (`idempotency-in-flight`).",
        ("insufficient-stock", "credit-limit-exceeded", "idempotency-in-flight"))},
    "acceptQuote": {409: (
        "The quote is not `answered` or is past `valid_until` (`quote-not-open`), not enough stock or credit for "
        "its order (`insufficient-stock`, `credit-limit-exceeded`), or a request with the same `Idempotency-Key` is "
        "still running (`idempotency-in-flight`).",
        ("quote-not-open", "insufficient-stock", "credit-limit-exceeded", "idempotency-in-flight"))},
    "approveOrder": {409: (
        "The order is not awaiting approval (`illegal-transition`), the company's credit has no room for it "
        "(`credit-limit-exceeded`, with `available_credit`; it keeps waiting), or a request with the same "
        "`Idempotency-Key` is still running (`idempotency-in-flight`).",
        ("illegal-transition", "credit-limit-exceeded", "idempotency-in-flight"))},
}


def _problem_example(name: str, status: int) -> dict[str, Any]:
    problem = PROBLEM_TYPES.get(name)
    if problem is None:  # an HTTP error without an entry of its own
        phrase = HTTPStatus(status).phrase
        return {"type": f"{EXAMPLE_BASE}/problems/{name}", "title": phrase, "status": status, "detail": f"{phrase}."}
    return {"type": f"{EXAMPLE_BASE}/problems/{name}", "title": problem.title, "status": problem.status,
            "detail": problem.meaning.split(". ")[0].rstrip(".") + ".", **problem.example}


def _problem_response(status: int, description: str | None, *, rate_limited: bool, body: bool,
                      own: tuple[str, tuple[str, ...]] | None = None) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase
    text, names = own or STATUSES.get(status, (f"{phrase} (`{problem_name(phrase)}`).", (problem_name(phrase),)))
    if not body:  # an operation that reads no body never says its JSON is malformed
        names = tuple(name for name in names if name != "malformed-json")
    content: dict[str, Any] = {"schema": PROBLEM_REF}
    if len(names) == 1:
        content["example"] = _problem_example(names[0], status)
    else:
        content["examples"] = {name.replace("-", "_"): {"summary": _problem_example(name, status)["title"],
                                                        "value": _problem_example(name, status)} for name in names}
    response: dict[str, Any] = {"description": description or text, "content": {PROBLEM_MIMETYPE: content}}
    if status == 429:
        response["headers"] = {"Retry-After": RETRY_AFTER, **(RATELIMIT_HEADERS if rate_limited else {})}
    return response


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, from what it does."""
    statuses = {int(s) for s in operation.get("responses", {}) if str(s).isdigit() and int(s) >= 400}
    parameters = operation.get("parameters", [])
    statuses.add(400)  # the input guard refuses a NUL or an unpaired surrogate anywhere in any request
    if operation.get("security") != []:  # the document's bearer key: missing or wrong is 401, repeated 429
        statuses |= {401, 429}
    if operation.get("requestBody"):
        statuses |= {413, 415, 422}
    elif method in BODY_METHODS:  # a body it does not read is still refused when too large or not JSON
        statuses |= {413, 415}
    if "{" in path:
        statuses.add(404)
    if any(p.get("in") == "query" or (p.get("in") == "header" and p.get("name") != "If-None-Match")
           for p in parameters):  # a malformed If-None-Match is no match: a 200, never a 422
        statuses.add(422)
    if any(p.get("in") == "header" and p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
        statuses |= {409, 422}  # the same key still running; the same key with another request
    return statuses


class ShopOpenAPIPlugin(BasePlugin):
    """apispec plugin: the house rules for every operation of the document (see the module's docstring)."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        for method, operation in (operations or {}).items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.pop("default", None)
            # An operation that declares its own 429 has a limit of its own: its answers carry the RateLimit headers.
            rate_limited = "429" in {str(s) for s in responses}
            own_problems = OWN_PROBLEMS.get(operation.get("operationId", ""), {})
            for status in sorted(error_statuses(method, path or "", operation)):
                given = responses.pop(status, None) or responses.pop(str(status), None)
                description = given.get("description") if isinstance(given, dict) else None
                responses[str(status)] = _problem_response(status, description, rate_limited=rate_limited,
                                                           body="requestBody" in operation,
                                                           own=own_problems.get(status))
            own = examples.OPERATIONS.get(operation.get("operationId", ""), {})
            for status, response in responses.items():
                if isinstance(response, dict) and str(status).startswith("2"):
                    if rate_limited:
                        response.setdefault("headers", {}).update(RATELIMIT_HEADERS)
                    media = response.get("content", {}).get("application/json")
                    if media is not None and str(status) in own:
                        media["example"] = deepcopy(own[str(status)])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "request" in own:
                body["example"] = deepcopy(own["request"])


def webhook_payloads() -> dict[str, Any]:
    """OpenAPI 3.1 `webhooks`: what a delivery of each event type POSTs to an endpoint, signed as Standard Webhooks
    specifies."""
    headers = [
        {"name": "webhook-id", "in": "header", "required": True,
         "description": "The event's id (`msg_...`), the same on every retry: drop the duplicates.",
         "schema": {"type": "string", "examples": ["msg_2mV8cQk1fJ0nR4tXb7Lw9pZs"]}},
        {"name": "webhook-timestamp", "in": "header", "required": True,
         "description": "Unix time of this attempt, in seconds: refuse one more than 5 minutes away from now.",
         "schema": {"type": "string", "examples": ["1772442847"]}},
        {"name": "webhook-signature", "in": "header", "required": True,
         "description": "Space-separated `v1,<base64 HMAC-SHA256>` signatures of `<webhook-id>.<webhook-timestamp>."
                        "<body>` with the endpoint's secret (Standard Webhooks); one must match.",
         "schema": {"type": "string", "examples": ["v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="]}},
    ]
    out = {}
    for event_type in ("ping", *EVENT_TYPES):
        out[event_type] = {"post": {
            "operationId": "on" + "".join(part.title() for part in re.split(r"[._]", event_type)),
            "summary": f"`{event_type}` delivered to your endpoint",
            "description": "Answer 2xx within the delivery timeout to acknowledge it; anything else is retried with "
                           "the same `webhook-id`.",
            "tags": ["webhooks"],
            "security": [],
            "parameters": deepcopy(headers),
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/WebhookEvent"},
                "example": examples.event_example(event_type)}}},
            "responses": {"200": {"description": "Received: any 2xx answer acknowledges the delivery."},
                          "410": {"description": "Gone: the endpoint no longer wants deliveries."}},
        }}
    return out
