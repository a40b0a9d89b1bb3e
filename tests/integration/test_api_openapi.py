"""The served OpenAPI document holds every operation to the same rules (whichever helper or issue added it): an
operationId, every error status it can answer as problem+json and no catch-all `default`, 401 and 429 (with
Retry-After) where a key is needed, examples on every request and response body that match their schemas; the
webhook payloads are described as OpenAPI 3.1 `webhooks`, one per event type."""
from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from shop.events.types import EVENT_TYPES

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def app(make_app):
    app = make_app(PUBLIC_BASE_URL="https://leucine.example")
    with app.app_context():
        yield app


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method], [*item.get("parameters", []), *item[method].get("parameters", [])]


def _resolved(spec, node):
    """The schema with its $refs pointing into the document's components (validated as JSON Schema 2020-12)."""
    return {**node, "components": spec["components"]}


def _valid(spec, schema, instance) -> list[str]:
    validator = Draft202012Validator(_resolved(spec, schema))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def test_document_is_openapi_3_1_served_from_the_public_base_url(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["servers"][0]["url"] == "https://leucine.example"
    assert "nullable" not in str(spec), "OpenAPI 3.1 says null with a type array, not `nullable`"


def test_every_operation_has_a_unique_camel_case_operation_id(spec):
    ids = [op.get("operationId") for _, _, op, _ in operations(spec)]
    assert all(ids) and len(set(ids)) == len(ids), ids
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i) for i in ids), ids
    assert {"placeOrder", "getOrder", "listOrders", "cancelOrder", "listProducts", "getProduct", "getBatch",
            "getCompany", "listWebhookEndpoints", "createWebhookEndpoint", "deleteWebhookEndpoint",
            "listWebhookDeliveries", "testWebhookEndpoint", "redeliverWebhook"} <= set(ids)


def test_every_operation_lists_its_error_statuses_as_problems_without_a_default(spec):
    for method, path, op, parameters in operations(spec):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        assert "default" not in responses, where
        statuses = set(responses)
        assert "400" in statuses, where  # a NUL anywhere in a request is refused, whatever the operation
        if op.get("security", spec["security"]):
            assert {"401", "429"} <= statuses, where
        if op.get("requestBody"):
            assert {"413", "415", "422"} <= statuses, where
        if "{" in path:
            assert "404" in statuses, where
        if any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in parameters):
            assert {"409", "422"} <= statuses, where
        for status, response in responses.items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (where, status)
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"}, (where, status)
            if status in ("429", "503"):
                assert "Retry-After" in response["headers"], (where, status)
    assert not spec["components"].get("responses"), "every response is the operation's own"


def test_operations_with_a_limit_of_their_own_declare_the_ratelimit_headers(spec):
    limited = {op["operationId"]: op for _, _, op, _ in operations(spec)
               if "RateLimit-Policy" in op["responses"]["429"].get("headers", {})}
    assert {"placeOrder", "testWebhookEndpoint", "redeliverWebhook"} <= set(limited)
    for op in limited.values():
        success = next(r for s, r in op["responses"].items() if s.startswith("2"))
        assert {"RateLimit-Policy", "RateLimit"} <= set(success["headers"]), op["operationId"]


def test_every_request_and_response_body_has_an_example_valid_against_its_schema(spec):
    for method, path, op, _ in operations(spec):
        bodies = [("request", op["requestBody"])] if "requestBody" in op else []
        bodies += list(op["responses"].items())
        for name, body in bodies:
            for media_type, media in body.get("content", {}).items():
                where = f"{method.upper()} {path} {name} {media_type}"
                found = [media["example"]] if "example" in media else [
                    e["value"] for e in media.get("examples", {}).values()]
                assert found, f"no example: {where}"
                for example in found:
                    assert _valid(spec, media["schema"], example) == [], where


def test_webhooks_describe_every_event_type_with_the_signed_envelope(spec):
    assert set(EVENT_TYPES) <= set(spec["webhooks"])
    for event_type, item in spec["webhooks"].items():
        post = item["post"]
        assert post["operationId"].startswith("on"), event_type
        assert {"webhook-id", "webhook-timestamp", "webhook-signature"} == {
            p["name"] for p in post["parameters"] if p["in"] == "header"}
        media = post["requestBody"]["content"]["application/json"]
        assert media["example"]["type"] == event_type
        assert _valid(spec, media["schema"], media["example"]) == [], event_type
    envelope = spec["components"]["schemas"]["WebhookEvent"]
    assert set(envelope["required"]) == {"id", "type", "created_at", "data"}
    assert set(EVENT_TYPES) <= set(envelope["properties"]["type"]["enum"])


def test_the_endpoint_fields_say_their_formats(spec):
    endpoint_in = spec["components"]["schemas"]["EndpointIn"]["properties"]
    assert endpoint_in["url"]["format"] == "uri"
    assert endpoint_in["events"]["minItems"] == 1
    assert endpoint_in["events"]["items"]["enum"] == ["*", *EVENT_TYPES]
