"""Lists given a hand-made `?cursor=` or a blank filter (#22 item 7): a 4xx that says what to do, never a 500."""
from __future__ import annotations

import base64

import pytest

from tests.support.api import assert_problem
from tests.support.staff import sign_in

# 1,500 nested brackets: deeper than Python's JSON decoder can recurse (RecursionError, not ValueError).
DEEP_CURSOR = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/api/v1/orders", "/api/v1/products", "/api/v1/webhook-endpoints/1/deliveries"])
def test_a_cursor_nested_too_deep_is_422_on_the_api(admin_api, path):
    endpoint = admin_api.post("/api/v1/webhook-endpoints", json={"url": "https://93.184.216.34/x", "events": ["*"]})
    assert endpoint.status_code == 201
    problem = assert_problem(admin_api.get(f"{path}?cursor={DEEP_CURSOR}"), 422, "validation-error")
    assert "next_cursor" in str(problem["errors"])


@pytest.mark.usefixtures("staff_clients")
@pytest.mark.parametrize("path", ["/staff/orders", "/staff/orders/short", "/staff/ledger", "/staff/batches",
                                  "/staff/audit"])
def test_a_cursor_nested_too_deep_is_400_with_a_message_on_staff_lists(client, path):
    sign_in(client, "admin")
    page = client.get(f"{path}?cursor={DEEP_CURSOR}")
    assert page.status_code == 400
    assert "This page link is no longer valid" in page.text


@pytest.mark.usefixtures("staff_clients")
@pytest.mark.parametrize(("path", "heading"), [("/staff/orders?status=%20", "Orders"),
                                               ("/staff/events?outcome=%20", "Events"),
                                               ("/staff/events?type=%20", "Events")])
def test_a_blank_filter_on_a_staff_list_means_any(client, path, heading):
    sign_in(client, "admin")
    page = client.get(path)
    assert page.status_code == 200 and heading in page.text
