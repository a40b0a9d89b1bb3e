"""GET /api/v1/events: an ERP whose webhook receiver was down replays the company's events, each exactly as its
webhook delivery's body, oldest first, and rebuilds every order's last state; no other company's event appears;
`after` and the cursor page; an event still committing never lands behind a reader's `after`."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import insert, update
from standardwebhooks import Webhook

from shop import ordering
from shop.events.types import EVENT_TYPES
from shop.platform import outbox
from shop.platform.database import utcnow
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import admin_key, assert_problem, register_endpoint
from tests.support.billing import ship_paid
from tests.support.events import Receiver, run_worker
from tests.support.factories import make_lot, make_product, signed_recall

# What an order event adds to the order's view (order.changed its change, order.shipped its shipment): not the order.
CHANGE_MEMBERS = ("cause", "reason", "changes", "missing", "shipment")


@pytest.fixture
def app(make_app):
    """Deliveries may go to a local receiver, retries come at once, and events are listed at once (no settle
    window: it has tests of its own)."""
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, WEBHOOK_RETRY_SCHEDULE=[0.0], OUTBOX_SWEEP_AFTER_SECONDS=0,
                   EVENTS_FEED_SETTLE_SECONDS=0)
    with app.app_context():
        yield app
        db.session.remove()


def feed(api, **query) -> list[dict]:
    """Every page of the company's events."""
    return api.every_page("/api/v1/events", **query)


def place(api, quantity: int = 1) -> str:
    response = api.order([{"sku": "LEU-USP-25KG", "quantity": quantity}])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


def test_replaying_the_feed_after_an_outage_rebuilds_every_orders_last_state(api):
    product = make_product()
    make_lot(product, "L-FIRST", {"LEU-USP-25KG": 2}, expires_in_days=300)
    make_lot(product, "L-SECOND", {"LEU-USP-25KG": 20}, expires_in_days=600)
    down = Receiver()
    register_endpoint(api, down.url)
    down.close()  # the ERP's receiver is down from here on: every delivery fails
    changed, shipped, cancelled, placed = (place(api, 2) for _ in range(4))  # `changed` draws from L-FIRST
    ordering.confirm_order(shipped)
    db.session.commit()
    ship_paid(shipped, "1Z999")
    db.session.commit()
    ordering.confirm_order(cancelled)
    db.session.commit()
    assert api.post(f"/api/v1/orders/{cancelled}/cancel").status_code == 200
    signed_recall("L-FIRST", "Foreign matter")  # `changed` drew from it: re-allocated from L-SECOND
    db.session.commit()
    db.session.remove()  # the requests below read as a new request does, not the test's loaded orders
    run_worker(lambda: True, settle=0.5)  # the deliveries are tried, and fail

    state: dict[str, dict] = {}
    for event in feed(api, limit=3):
        if not event["type"].startswith("order."):
            continue  # lot.recalled: about a lot, not an order
        order = {k: v for k, v in event["data"].items() if k not in CHANGE_MEMBERS}
        known = state.get(order["number"])
        if known is None or order["version"] >= known["version"]:
            state[order["number"]] = order

    assert {e["type"] for e in feed(api)} >= {"order.placed", "order.confirmed", "order.shipped",
                                              "order.cancelled", "order.changed"}
    assert set(state) == {shipped, cancelled, changed, placed}
    for number, order in state.items():
        assert order == api.get(f"/api/v1/orders/{number}").get_json(), number


def test_each_item_is_exactly_the_body_its_webhook_delivery_posts(api, stocked, receiver):
    endpoint = register_endpoint(api, receiver.url)
    number = place(api)
    ordering.confirm_order(number)
    db.session.commit()

    run_worker(lambda: len(receiver.received) >= 2)

    posted = [Webhook(endpoint["secret"]).verify(r.body, r.headers) for r in receiver.received]
    listed = feed(api)
    assert sorted(posted, key=lambda b: b["id"]) == sorted(listed, key=lambda b: b["id"])
    assert [item["type"] for item in listed] == ["order.placed", "order.confirmed"]
    assert [json.loads(r.body) for r in receiver.received] == posted  # nothing but the body
    assert set(listed[0]) == {"id", "type", "created_at", "data"}


def test_after_and_the_cursor_page_oldest_first(api, stocked):
    numbers = [place(api) for _ in range(5)]
    everything = feed(api, limit=2)
    assert [e["data"]["number"] for e in everything] == numbers

    assert [e["data"]["number"] for e in feed(api, after=everything[1]["id"])] == numbers[2:]
    assert feed(api, after=everything[-1]["id"]) == []
    first = api.get("/api/v1/events", query_string={"limit": 2}).get_json()
    second = api.get("/api/v1/events", query_string={"limit": 2, "cursor": first["next_cursor"]}).get_json()
    assert second["items"] == everything[2:4]


def test_type_filters_with_one_or_several_values_and_an_unknown_type_is_422(api, stocked):
    number = place(api)
    api.post(f"/api/v1/orders/{number}/cancel")
    assert [e["type"] for e in feed(api, type="order.cancelled")] == ["order.cancelled"]
    both = api.get("/api/v1/events?type=order.placed&type=order.cancelled").get_json()["items"]
    assert [e["type"] for e in both] == ["order.placed", "order.cancelled"]
    assert feed(api, type="order.shipped") == []
    body = assert_problem(api.get("/api/v1/events?type=order.exploded"), 422, "validation-error")
    assert "type" in json.dumps(body["errors"])


def test_another_companys_events_never_appear_and_its_ids_are_not_an_after(api, rival, stocked):
    mine = place(api)
    theirs = place(rival)
    assert [e["data"]["number"] for e in feed(api)] == [mine]
    assert [e["data"]["number"] for e in feed(rival)] == [theirs]
    their_id = feed(rival)[0]["id"]
    body = assert_problem(api.get("/api/v1/events", query_string={"after": their_id}), 422, "validation-error")
    assert "after" in body["errors"]


def test_test_pings_are_not_business_events(api, stocked, receiver):
    endpoint = register_endpoint(api, receiver.url)
    assert admin_key(api).post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test").status_code == 202
    assert feed(api) == []


def test_the_feed_is_documented_with_its_operation_and_types(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/events"]["get"]
    assert operation["operationId"] == "listEvents" and "after=" in operation["description"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["type"]["schema"]["items"]["enum"] == list(EVENT_TYPES)
    assert {"after", "cursor", "limit"} <= set(params)


def test_an_event_still_committing_with_a_lower_id_is_not_skipped_by_a_reader_after_a_later_one(make_app, backend):
    """Ids are drawn at INSERT: a slow transaction can commit an event with a lower id after one with a higher
    id has committed. A reader that saw the higher one and asks `after` it must still get the lower one: the feed
    lists an event only once it is older than the settle window, by which time its neighbours have committed."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: ids are in commit order")
    from tests.support.api import new_api_client

    app = make_app(EVENTS_FEED_SETTLE_SECONDS=1)
    with app.app_context():
        api = new_api_client(app.test_client(), "erp@acme.example", "Acme")
        customer_id = api.customer.id
        slow = db.engine.connect()
        try:
            slow_tx = slow.begin()
            row = outbox.new_event("order.placed", {"number": "LS-SLOW"}, customer_id=customer_id,
                                   handed_over=True)
            slow.execute(insert(OutboxEvent.__table__), row)  # the lower id, not committed yet
            db.session.rollback()
            outbox.record("order.placed", {"number": "LS-FAST"}, customer_id=customer_id, handed_over=True)
            db.session.commit()  # the higher id, committed first

            assert feed(api) == []  # both younger than the window: a reader sees neither yet
            slow_tx.commit()
        finally:
            slow.close()
        time.sleep(1.1)  # both older than the window now
        assert [event["data"]["number"] for event in feed(api)] == ["LS-SLOW", "LS-FAST"]
        db.session.remove()


def test_events_of_more_than_30_days_ago_are_still_listed(api, stocked):
    number = place(api)
    db.session.execute(update(OutboxEvent).values(created_at=utcnow() - timedelta(days=45)))
    db.session.commit()
    assert [e["data"]["number"] for e in feed(api)] == [number]
