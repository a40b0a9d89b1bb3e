"""Walking every route of the URL map with bad input: a world with one of everything, each route's path arguments,
the query and form keys it reads, and the API's JSON bodies, each given each bad value in turn.

Which parameters a route reads is found out, not listed by hand: a first request to each route records every
query and form key the app looks up (WTForms, webargs and the views all go through the request's MultiDicts),
and then each of those keys gets each bad value in turn.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
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
from tests.support.documents import add_document
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


def cursor_of(*values) -> str:
    """A cursor as the shop writes them (base64url of a JSON list), holding whatever it is given."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.fixture
def sweep_world(make_app):
    """An app (limits off: the walk is about input; every limit has tests of its own) with a product, lots in
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
        document = add_document(product, kind="sds", valid_until=None)  # a stored PDF, for its download route
        ids = {"slug": product.slug, "number": order.number, "stock_id": db.session.query(Stock.id).first()[0],
               "endpoint_id": endpoint.id, "delivery_id": delivery.id, "event_id": event.event_id,
               "customer_id": other.id, "member_id": other.id, "company_id": buyer.company_id, "list_id": 1,
               "staff_id": db.session.query(StaffUser.id).first()[0], "token": "not-a-token", "decision": "approve",
               "key_id": db.session.query(ApiKey.id).filter(ApiKey.customer_id == other.id).scalar(),
               "page": "terms", "name": "insufficient-stock",  # a legal page, a problem type
               "sku": "LEU-USP-25KG", "attachment_id": 1,  # an order line; a complaint's attachment
               "sequence": 1,  # a shipment of the order (none yet: its packing slip answers 404)
               "document_id": document.id, "file_name": document.file_name,
               "dynamic": [f"units_{v.id}" for v in product.variants]
               + [f"result_{t.id}" for t in product.spec_tests] + ["units_0", "lot_0"]}  # + the ship form's
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
# The API's JSON bodies, each leaf of which the walk replaces with each bad value (`path`: the leaf's keys).
ORDER_ADDRESS = {"name": "Goods In", "line1": "Hafenstrasse 1", "city": "Hamburg", "postal_code": "20457",
                 "country": "DE"}
BODIES = {
    "/api/v1/orders": {"lines": [{"sku": "LEU-USP-25KG", "quantity": 1}], "shipping_address": ORDER_ADDRESS,
                       "purchase_order": "PO-1", "min_remaining_shelf_life_days": 10},
    "/api/v1/webhook-endpoints": {"url": "https://hooks.example.com/x", "events": ["*"], "description": "ERP"},
    "/api/v1/complaints": {"order": "LS-260101-AAAAA", "sku": "LEU-USP-25KG", "lot_number": "L-REL",
                           "category": "quality", "description": "Caked powder."},
    "/api/v1/sample-requests": {"product": "l-leucine-usp", "quantity_g": 100, "note": "For the QC lab.",
                                "shipping_address": ORDER_ADDRESS},
}


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


def _leaves(value, path: tuple = ()):
    """The paths to every leaf of a JSON value (list items and object members)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, (*path, index))
    else:
        yield path


def bodies_with(template: dict, raw_values: list[str]) -> list[str]:
    """`template` as JSON text with each leaf, in turn, replaced by each of `raw_values` (JSON text itself)."""
    bodies = []
    marker = "__BAD__"
    for leaf in _leaves(template):
        for raw in raw_values:
            body = json.loads(json.dumps(template))
            target = body
            for step in leaf[:-1]:
                target = target[step]
            target[leaf[-1]] = marker
            bodies.append(json.dumps(body).replace(f'"{marker}"', raw))
    return bodies


def walk(world: tuple, values: list[str], json_values: list[str], check: Callable[[object, str], None]) -> None:
    """Send every route of the world's app each of `values` in each path argument and in each query (GET) or
    form (POST) key it reads, each API body of BODIES with each of `json_values` (JSON text) at each leaf, and each
    value as the API's Idempotency-Key; `check(response, what was sent)` sees every answer."""
    app, ids, clients = world
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]
    assert len(rules) >= 45  # the whole app, not a corner of it
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            good = _path_values(rule, rule.endpoint, ids)
            path = _build(rule, good)
            client = _client_for(rule.endpoint, path, clients)
            headers = _headers(path, clients)
            for arg in rule.arguments:
                for bad in values:
                    bad_path = _build(rule, {**good, arg: bad})
                    check(_send(client, method, bad_path, headers), f"{method} {bad_path[:120]}")
            for key in sorted(_keys_read(client, method, path, headers, ids)):
                for bad in values:
                    where = {"query": {key: bad}} if method == "GET" else {"form": {key: bad}}
                    check(_send(client, method, path, headers, **where), f"{method} {path} {key}={bad[:60]!r}")
            if method == "POST" and path in BODIES:
                for body in bodies_with(BODIES[path], json_values):
                    check(_send(client, method, path, headers, body=body), f"POST {path} {body[:120]}")
            if method == "POST" and path == "/api/v1/orders":
                for bad in values:
                    if bad.isprintable() and bad.isascii():  # a header holds no control or non-Latin-1 character
                        check(_send(client, method, path, {**headers, "Idempotency-Key": bad}, body="{}"),
                              f"POST {path} Idempotency-Key={bad[:60]!r}")
