"""Text no database column can store (NUL, a lone UTF-16 surrogate) is refused up front: 400, nothing changed."""
from __future__ import annotations

import json

import pytest

from tests.support.api import ADDRESS, assert_problem, available, order_count
from tests.support.storefront import customer_count, register


def _post_raw(api, body: str):
    return api.client.post("/api/v1/orders", data=body, headers=api.headers({"Content-Type": "application/json"}))


@pytest.mark.parametrize("body", [
    {"lines": [{"sku": "LEU-USP-25KG\u0000", "quantity": 1}], "shipping_address": ADDRESS},
    {"lines": [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": {**ADDRESS, "name": "Acme\u0000"}},
    {"lines": [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": ADDRESS, "purchase_order": "\ud800"},
])
def test_api_order_with_unstorable_text_is_400_and_places_nothing(api, stocked, body):
    problem = assert_problem(_post_raw(api, json.dumps(body)), 400, "bad-request")
    assert "NUL character" in problem["detail"]
    assert order_count() == 0
    assert available(api, "LEU-USP-25KG") == 16


def test_api_order_with_an_emoji_written_as_a_surrogate_pair_is_fine(api, stocked):
    body = json.dumps({"lines": [{"sku": "LEU-USP-25KG", "quantity": 1}],
                       "shipping_address": {**ADDRESS, "name": "Acme \U0001F600"}})
    assert "\\ud83d\\ude00" in body  # json.dumps escapes it as a pair
    response = _post_raw(api, body)
    assert response.status_code == 201
    assert response.get_json()["shipping_address"]["name"] == "Acme \U0001F600"


def test_nul_in_the_query_or_path_is_400(api, client, stocked):
    assert_problem(api.get("/api/v1/orders?status=pending%00"), 400, "bad-request")
    page = client.get("/products/l-leucine-usp%00")
    assert page.status_code == 400 and "NUL character" in page.text and "Traceback" not in page.text


def test_register_with_nul_in_a_field_is_400_and_creates_no_account(app, client):
    page = register(client, company="Bad\u0000Co")
    assert page.status_code == 400 and "NUL character" in page.text
    assert customer_count() == 0
