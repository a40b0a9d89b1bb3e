"""Fixtures shared by the API tests (no tests here): a client that speaks for a customer with an API key."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from shop.accounts import people as accounts
from shop.ordering.models import Order
from shop.platform.extensions import db
from tests.support.factories import make_customer, make_lot, make_product

ADDRESS = {"name": "Acme Nutrition GmbH", "line1": "Werkstraße 5", "city": "Hamburg", "postal_code": "20095",
           "country": "DE"}


class ApiClient:
    """The test client with a customer's bearer key on every request."""

    def __init__(self, client: FlaskClient, key: str, customer) -> None:
        self.client, self.key, self.customer = client, key, customer

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    def get(self, path: str, **kwargs: Any):
        return self.client.get(path, headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, key: str | None = None, **kwargs: Any):
        extra = kwargs.pop("headers", None) or {}
        if key is not None:
            extra["Idempotency-Key"] = key
        return self.client.post(path, json=json, headers=self.headers(extra), **kwargs)

    def every_page(self, path: str, **query: Any) -> list[dict[str, Any]]:
        """The items of every page of the list at `path`, following `next_cursor` to the end."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            response = self.get(path, query_string={**query, **({"cursor": cursor} if cursor else {})})
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            items += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                return items

    def order(self, lines: list[dict[str, Any]] | None = None, key: str | None = None, **fields: Any):
        body = {"lines": lines or [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": ADDRESS, **fields}
        return self.post("/api/v1/orders", json=body, key=key)


def new_api_client(client: FlaskClient, email: str, company: str) -> ApiClient:
    customer = make_customer(email=email, company=company)
    key = accounts.create_api_key(customer, "tests")
    db.session.commit()
    return ApiClient(client, key, customer)


def admin_key(api: ApiClient, name: str = "Integration admin") -> ApiClient:
    """A key of `api`'s company made by its admin with the admin role: what managing webhook endpoints needs."""
    key = accounts.create_api_key(api.customer, name, "admin")
    db.session.commit()
    return ApiClient(api.client, key, api.customer)


def register_endpoint(api: ApiClient, url: str, events: list[str] | None = None) -> dict[str, Any]:
    """Register a webhook endpoint of `api`'s company with an admin key (what managing endpoints needs)."""
    response = admin_key(api).post("/api/v1/webhook-endpoints", json={"url": url, "events": events or ["*"]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def api(app, client) -> ApiClient:
    return new_api_client(client, "buyer@acme.example", "Acme Nutrition")


@pytest.fixture
def admin_api(api) -> ApiClient:
    """An admin key of `api`'s company."""
    return admin_key(api)


@pytest.fixture
def rival(app, client) -> ApiClient:
    """Another company with its own key."""
    return new_api_client(client, "buyer@rival.example", "Rival Labs")


@pytest.fixture
def stocked(app):
    """The USP grade with two released lots of 25 kg drums (6 expiring sooner, 10 later) and 50 1 kg tubs."""
    product = make_product()
    make_lot(product, "L-SOON", {"LEU-USP-25KG": 6, "LEU-USP-1KG": 50}, expires_in_days=200)
    make_lot(product, "L-LATE", {"LEU-USP-25KG": 10}, expires_in_days=700)
    return product


def available(api, sku: str, slug: str = "l-leucine-usp") -> int:
    product = api.get(f"/api/v1/products/{slug}").get_json()
    return next(v["available_quantity"] for v in product["variants"] if v["sku"] == sku)


def assert_problem(response, status: int, name: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(f"/problems/{name}")
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def order_count() -> int:
    return db.session.scalar(select(func.count(Order.id)))
