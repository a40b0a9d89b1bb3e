"""Issue 21 item 9: only a company admin (in the storefront) or an API key made with the admin role manages the
company's webhook endpoints (create, delete, test, redeliver); buyers and approvers, people and keys, read them."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from shop.accounts import companies
from shop.accounts import people as accounts
from shop.events.models import WebhookEndpoint
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import ApiClient, admin_key, assert_problem
from tests.support.events import app_with_local_receivers
from tests.support.storefront import sign_in


@pytest.fixture
def app(make_app):
    yield from app_with_local_receivers(make_app)


def _endpoints() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


def _keyed(api: ApiClient, role: str) -> ApiClient:
    key = accounts.create_api_key(api.customer, f"{role} key", role)
    db.session.commit()
    return ApiClient(api.client, key, api.customer)


@pytest.mark.parametrize("role", ["buyer", "approver"])
def test_a_buyer_or_approver_key_reads_the_endpoints_and_is_refused_every_change(api, receiver, role):
    admin = admin_key(api)
    endpoint = admin.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}).get_json()
    event_id = admin.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test").get_json()["event_id"]
    events = db.session.scalar(select(func.count()).select_from(OutboxEvent))
    key = _keyed(api, role)

    assert [e["id"] for e in key.get("/api/v1/webhook-endpoints").get_json()["items"]] == [endpoint["id"]]
    assert key.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").status_code == 200

    body = assert_problem(key.client.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=key.headers()),
                          403, "forbidden")
    assert "admin" in body["detail"]
    assert_problem(key.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}, key="k1"),
                   403, "forbidden")
    assert_problem(key.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test"), 403, "forbidden")
    assert_problem(key.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/redeliver", json={"event_id": event_id}),
                   403, "forbidden")
    db.session.expire_all()
    assert _endpoints() == 1  # nothing changed: still there, nothing new, nothing sent
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == events


def test_an_admin_makes_an_admin_key_on_the_keys_page_and_it_manages_the_endpoints(app, client, api, receiver):
    sign_in(client, api.customer.email)
    page = client.post("/account/api-keys", data={"name": "ERP integration (SAP)", "role": "admin"})
    assert page.status_code == 201, page.text
    key = re.search(r'<code class="new-key">(lsk_[^<]+)</code>', page.text).group(1)
    listed = client.get("/account/api-keys").text
    assert re.search(r'ERP integration \(SAP\)</td>.*?<td data-label="Acts as">admin</td>', listed, re.S)

    admin = ApiClient(client, key, api.customer)
    created = admin.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]})
    assert created.status_code == 201
    endpoint_id = created.get_json()["id"]
    assert admin.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test").status_code == 202
    assert admin.client.delete(f"/api/v1/webhook-endpoints/{endpoint_id}", headers=admin.headers()).status_code == 204
    assert _endpoints() == 0


def test_a_buyer_member_sees_the_webhooks_page_without_its_buttons_and_cannot_delete(app, client, api, receiver):
    admin = admin_key(api)
    endpoint = admin.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["*"]}).get_json()
    buyer = companies.invite_member(api.customer, "clerk@acme.example", "buyer")
    buyer.set_password("a long buyer password 7")
    buyer.joined_at = buyer.created_at
    db.session.commit()
    sign_in(client, "clerk@acme.example", "a long buyer password 7")

    page = client.get("/account/webhooks")
    assert page.status_code == 200 and receiver.url in page.text
    assert "Delete endpoint" not in page.text and "Add endpoint" not in page.text
    assert "company admin" in page.text

    refused = client.post(f"/account/webhooks/{endpoint['id']}/delete",
                          data={"csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                                        client.get("/account/password").text).group(1)})
    assert refused.status_code == 403
    assert client.post("/account/webhooks", data={"url": receiver.url, "events": ["*"]}).status_code == 403
    db.session.expire_all()
    assert _endpoints() == 1


def test_the_openapi_document_says_who_may_manage_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    delete = spec["paths"]["/api/v1/webhook-endpoints/{endpoint_id}"]["delete"]
    assert "403" in delete["responses"] and "admin" in delete["description"]
    for path in ("/api/v1/webhook-endpoints", "/api/v1/webhook-endpoints/{endpoint_id}/test",
                 "/api/v1/webhook-endpoints/{endpoint_id}/redeliver"):
        assert "403" in spec["paths"][path]["post"]["responses"], path
