"""No input produces a 500: every route of the URL map, with every path parameter, every query parameter and form
field it reads, and the API's JSON fields, given out-of-range integers, far dates, garbage cursors and oversized
strings.

Which parameters a route reads is found out, not listed by hand: a first request to each route records every
query and form key the app looks up (WTForms, webargs and the views all go through the request's MultiDicts),
and then each of those keys gets each bad value in turn.
"""
from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from flask import Request
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict

from shop.accounts import people as accounts
from shop.accounts.models import ApiKey, Customer, StaffUser
from shop.events.models import WebhookDelivery, WebhookEndpoint
from shop.inventory.models import Stock
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import ADDRESS
from tests.support.factories import make_customer, make_lot, make_product, make_staff
from tests.support.staff import PASSWORD, place

_READ: set[str] = set()


class _RecordingMultiDict(ImmutableMultiDict):
    """The request's args and form, noting every key the app asks for."""

    def __getitem__(self, key):
        _READ.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002  (werkzeug's signature)
        _READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        _READ.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        _READ.add(key)
        return super().__contains__(key)


class _RecordingRequest(Request):
    parameter_storage_class = _RecordingMultiDict


def _cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


FAR = "9999-12-31T23:59:59+00:00"
BAD_VALUES = [
    "99999999999999999999999999",  # beyond 64 bits
    "2147483648", "-2147483649",  # just beyond a 32-bit column
    "9999-12-31", "0001-01-01",
    "x" * 5000,
    "true", "1e999",
    # cursors of the API's lists, the staff lists and My orders, holding ids and dates no column can
    _cursor("orders", FAR, 2**70), _cursor("products", 2**70, True), _cursor(FAR, 2**70), _cursor(FAR, True),
    f"{FAR}_{'9' * 30}",
]
# A JSON value in place of a field of the API's order: numbers the parser must bound, and the same as strings.
BAD_JSON = ["1" + "0" * 4300, "1e999", "-1e999", "2147483648", "-1", "true", "null", '"' + "x" * 5000 + '"',
            "[" * 50 + "]" * 50, '{"a": ' * 50 + "1" + "}" * 50]


@pytest.fixture
def world(make_app):
    """An app (limits off: the walk is about bounds; every limit has tests of its own) with a product, lots in
    quarantine and released, an order, a signed-in customer, a signed-in admin and an API key."""
    app = make_app(RATELIMIT_ENABLED=False)
    app.request_class = _RecordingRequest
    with app.app_context():
        product = make_product()
        make_lot(product, "L-REL", {"LEU-USP-25KG": 50, "LEU-USP-1KG": 50})
        make_lot(product, "L-Q", {"LEU-USP-25KG": 5}, status="quarantine")
        buyer = make_customer()
        order = place(buyer, "LEU-USP-25KG", 2)
        key = accounts.create_api_key(buyer, "walk", "admin")  # admin: the webhook endpoints' changes too
        other = make_customer("other@example.com", "Other Labs")
        accounts.create_api_key(other, "spare")
        make_staff("admin")
        endpoint = WebhookEndpoint(customer_id=buyer.id, url="https://hooks.example.com/x", events="*",
                                   secret="whsec_" + "A" * 44)
        db.session.add(endpoint)
        event = db.session.scalar(select(OutboxEvent))  # the order's order.placed
        delivery = WebhookDelivery(endpoint=endpoint, event=event)
        db.session.add(delivery)
        db.session.commit()
        ids = {"slug": product.slug, "number": order.number, "stock_id": db.session.query(Stock.id).first()[0],
               "endpoint_id": endpoint.id, "delivery_id": delivery.id, "event_id": event.event_id,
               "customer_id": other.id, "member_id": other.id, "company_id": buyer.company_id, "list_id": 1,
               "staff_id": db.session.query(StaffUser.id).first()[0], "token": "not-a-token", "decision": "approve",
               "key_id": db.session.query(ApiKey.id).filter(ApiKey.customer_id == other.id).scalar(),
               "page": "terms", "name": "insufficient-stock",  # a legal page, a problem type
               "dynamic": [f"units_{v.id}" for v in product.variants]
               + [f"result_{t.id}" for t in product.spec_tests]}
        assert db.session.get(Customer, buyer.id).active

    customer, staff, anonymous = app.test_client(), app.test_client(), app.test_client()
    signed_in = customer.post("/sign-in", data={"email": "buyer@example.com", "password": "correct horse"})
    assert signed_in.status_code == 302
    assert staff.post("/staff/login", data={"email": "admin@shop.example", "password": PASSWORD}).status_code == 302
    return app, ids, {"customer": customer, "staff": staff, "anonymous": anonymous, "key": key}


# Views that would end the walk's own sessions; they take no parameter but the CSRF token.
SKIP = {"storefront.logout", "staff.logout", "static"}
# Lot-level QC actions run against the lot still in quarantine, so that results are parsed.
QUARANTINE_LOT = {"staff.batch", "staff.save_results", "staff.release", "staff.reject"}


def _path_values(rule, endpoint: str, ids: dict) -> dict[str, str]:
    values = {}
    for arg in rule.arguments:
        if arg == "lot_number":
            values[arg] = "L-Q" if endpoint in QUARANTINE_LOT else "L-REL"
        else:
            values[arg] = str(ids[arg])
    return values


def _build(rule, values: dict[str, str]) -> str:
    """The rule's path with `values` put in, quoted as a browser would (bad values included); each
    <converter:name> by its name (a rule's `arguments` is a set: it says nothing of their order)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda part: quote(values[part.group(1)], safe=""), rule.rule)


def _client_for(endpoint: str, path: str, clients: dict):
    if endpoint in ("storefront.login", "storefront.register", "staff.login"):
        return clients["anonymous"]
    return clients["staff"] if path.startswith("/staff/") else clients["customer"]


def _headers(path: str, clients: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {clients['key']}"} if path.startswith("/api/v1/") else {}


def _send(client, method: str, path: str, headers: dict, *, query=None, form=None, body=None):
    if path.startswith("/staff/batches/receive"):  # the receipt form is built for the chosen product
        query = {"product": "l-leucine-usp", **(query or {})}
    if body is not None:
        return client.open(path, method=method, data=body, headers={**headers, "Content-Type": "application/json"})
    return client.open(path, method=method, query_string=query, data=form, headers=headers)


def _keys_read(client, method: str, path: str, headers: dict, ids: dict) -> set[str]:
    """The query and form keys the route looks up, from one request with the dynamic receipt and result fields."""
    _READ.clear()
    probe = {name: "" for name in ids["dynamic"]}
    _send(client, method, path, headers, form=probe if method == "POST" else None)
    return set(_READ) - {"csrf_token"}


def _order_bodies() -> list[str]:
    """The API's order body with each field, in turn, replaced by each bad JSON value."""
    template = {"lines": [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": ADDRESS,
                "purchase_order": "PO-1", "min_remaining_shelf_life_days": 10}
    leaves = [("lines", 0, "sku"), ("lines", 0, "quantity"), ("purchase_order",), ("min_remaining_shelf_life_days",),
              *[("shipping_address", field) for field in ADDRESS]]
    bodies = []
    for leaf in leaves:
        for raw in BAD_JSON:
            marker = "__BAD__"
            body = json.loads(json.dumps(template))
            target = body
            for step in leaf[:-1]:
                target = target[step]
            target[leaf[-1]] = marker
            bodies.append(json.dumps(body).replace(f'"{marker}"', raw))
    return bodies


def test_no_route_answers_500_to_out_of_range_or_malformed_input(world):
    app, ids, clients = world
    failures: list[str] = []
    sent = 0

    def check(response, what: str) -> None:
        nonlocal sent
        sent += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {what}")

    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]
    assert len(rules) >= 45  # the whole app, not a corner of it
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            good = _path_values(rule, rule.endpoint, ids)
            path = _build(rule, good)
            client = _client_for(rule.endpoint, path, clients)
            headers = _headers(path, clients)
            for arg in rule.arguments:
                for bad in BAD_VALUES:
                    bad_path = _build(rule, {**good, arg: bad})
                    check(_send(client, method, bad_path, headers), f"{method} {bad_path[:120]}")
            keys = _keys_read(client, method, path, headers, ids)
            for key in sorted(keys):
                for bad in BAD_VALUES:
                    if method == "GET":
                        response = _send(client, method, path, headers, query={key: bad})
                    else:
                        response = _send(client, method, path, headers, form={key: bad})
                    check(response, f"{method} {path} {key}={bad[:60]!r}")
            if path == "/api/v1/orders" and method == "POST":
                for body in _order_bodies():
                    check(_send(client, method, path, headers, body=body), f"POST {path} {body[:120]}")
                for bad in BAD_VALUES:
                    check(_send(client, method, path, {**headers, "Idempotency-Key": bad}, body="{}"),
                          f"POST {path} Idempotency-Key={bad[:60]!r}")
    assert sent > 1500
    assert not failures, "\n".join(failures[:50])
