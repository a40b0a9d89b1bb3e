"""An ERP keeps its copy of the orders in sync: every order says when it last changed and its version (also in its
events' payloads), its life-cycle times and who placed it, its lines their pack size and mass; and `GET
/api/v1/orders?updated_since=` lists the company's changes oldest first, each change once across pages."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from shop import ordering
from shop.accounts import companies
from shop.platform.errors import IllegalTransition
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import assert_problem, new_api_client
from tests.support.billing import ship_paid
from tests.support.factories import make_lot, make_product, signed_recall
from tests.support.sql import count_statements

EPOCH = "2000-01-01T00:00:00Z"


@pytest.fixture
def app(make_app):
    """No settle window: a change is listed at once (the window has a test of its own)."""
    app = make_app(EVENTS_FEED_SETTLE_SECONDS=0)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def api(api):
    """The API client's company on net terms: its orders ship without a payment first, which moves the version too
    (tests/integration/test_billing.py and test_invoices_staff.py count that); here only the life cycle does."""
    companies.set_terms(api.customer.company, payment_terms="net_30")
    db.session.commit()
    return api


@pytest.fixture
def plenty(app):
    product = make_product()
    make_lot(product, "L-BIG", {"LEU-USP-25KG": 500, "LEU-USP-1KG": 500}, expires_in_days=700)
    return product


def _place(api, quantity: int = 2) -> str:
    response = api.order([{"sku": "LEU-USP-25KG", "quantity": quantity}])
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


def _changes(api, since: str = EPOCH, limit: int = 2) -> list[dict]:
    """Every page of ?updated_since=."""
    return api.every_page("/api/v1/orders", updated_since=since, limit=limit)


def test_a_new_order_is_version_1_updated_when_placed_and_says_who_placed_it_and_its_masses(api, plenty):
    placed = api.order([{"sku": "LEU-USP-25KG", "quantity": 4}, {"sku": "LEU-USP-1KG", "quantity": 3}]).get_json()

    assert placed["version"] == 1 and placed["updated_at"] == placed["placed_at"]
    assert placed["confirmed_at"] is placed["shipped_at"] is placed["delivered_at"] is placed["cancelled_at"] is None
    assert placed["placed_by"] == "tests"  # the key's name
    assert [(line["pack_size_kg"], line["net_mass_kg"]) for line in placed["lines"]] == [("25", "100"), ("1", "3")]
    assert api.get(f"/api/v1/orders/{placed['number']}").get_json() == placed


def test_each_step_of_the_life_cycle_bumps_the_version_and_sets_its_time(api, plenty):
    number = _place(api)
    stamps = []
    for step in (ordering.confirm_order, lambda n: ship_paid(n, "1Z999"), ordering.deliver_order):
        step(number)
        db.session.commit()
        stamps.append(api.get(f"/api/v1/orders/{number}").get_json())

    confirmed, shipped, delivered = stamps
    assert [s["version"] for s in stamps] == [2, 3, 4]
    assert confirmed["confirmed_at"] == confirmed["updated_at"] and confirmed["shipped_at"] is None
    assert shipped["shipped_at"] == shipped["updated_at"] and shipped["confirmed_at"] == confirmed["confirmed_at"]
    assert delivered["delivered_at"] == delivered["updated_at"] > shipped["updated_at"] > confirmed["updated_at"]
    assert delivered["cancelled_at"] is None
    cancelled = api.post(f"/api/v1/orders/{_place(api)}/cancel").get_json()
    assert cancelled["version"] == 2 and cancelled["cancelled_at"] == cancelled["updated_at"]


def test_every_event_carries_the_orders_version_after_its_change(api, plenty):
    number = _place(api)
    ordering.confirm_order(number)
    db.session.commit()
    api.post(f"/api/v1/orders/{number}/cancel")

    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.subject == number).order_by(OutboxEvent.id))
    seen = [(event.type, json.loads(event.data)["version"]) for event in events]
    assert seen == [("order.placed", 1), ("order.confirmed", 2), ("order.cancelled", 3)]
    assert api.get(f"/api/v1/orders/{number}").get_json()["version"] == 3


ACTIONS = ("confirm", "ship", "deliver", "cancel")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(ACTIONS), max_size=6))
def test_the_version_goes_up_by_one_with_every_change_and_never_otherwise(api, plenty, actions):
    number = _place(api, 1)
    do = {"confirm": ordering.confirm_order, "ship": lambda n: ship_paid(n, "1Z1"),
          "deliver": ordering.deliver_order, "cancel": lambda n: ordering.cancel_order(n)}
    version = 1
    for action in actions:
        try:
            do[action](number)
        except IllegalTransition:
            db.session.rollback()
        else:
            db.session.commit()
            version += 1
        assert api.get(f"/api/v1/orders/{number}").get_json()["version"] == version
    payloads = db.session.scalars(select(OutboxEvent.data).where(OutboxEvent.subject == number)
                                  .order_by(OutboxEvent.id))
    assert [json.loads(data)["version"] for data in payloads] == list(range(1, version + 1))


def test_updated_since_finds_every_change_once_even_when_orders_change_between_pages(api, plenty):
    numbers = [_place(api) for _ in range(5)]
    since = api.get(f"/api/v1/orders/{numbers[0]}").get_json()["updated_at"]

    first = api.get("/api/v1/orders", query_string={"updated_since": since, "limit": 2}).get_json()
    assert [o["number"] for o in first["items"]] == numbers[:2]
    # Between two page reads: an order already listed changes, and so does one not listed yet.
    ordering.confirm_order(numbers[0])
    ordering.confirm_order(numbers[3])
    db.session.commit()
    rest: list[dict] = []
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/api/v1/orders", query_string={"updated_since": since, "limit": 2, "cursor": cursor}).get_json()
        rest += page["items"]
        cursor = page["next_cursor"]

    seen = [(o["number"], o["version"]) for o in first["items"] + rest]
    assert len(seen) == len(set(seen)), "a change listed twice"
    assert [n for n, _ in seen] == numbers[:2] + [numbers[2], numbers[4], numbers[0], numbers[3]]
    latest = {n: v for n, v in seen}  # in the list's order: the last seen state of each order
    assert latest == {n: api.get(f"/api/v1/orders/{n}").get_json()["version"] for n in numbers}
    times = [o["updated_at"] for o in rest]
    assert times == sorted(times)


def test_updated_since_lists_only_changes_at_or_after_the_time_and_keeps_the_default_order_without_it(api, plenty):
    old, new = _place(api), _place(api)
    ordering.confirm_order(old)
    db.session.commit()
    confirmed_at = api.get(f"/api/v1/orders/{old}").get_json()["updated_at"]

    assert [o["number"] for o in _changes(api, confirmed_at)] == [old]
    assert [o["number"] for o in _changes(api, confirmed_at.replace("+00:00", "Z"))] == [old]
    assert [o["number"] for o in _changes(api)] == [new, old]
    assert [o["number"] for o in api.get("/api/v1/orders").get_json()["items"]] == [new, old]
    later = (datetime.fromisoformat(confirmed_at) + timedelta(hours=1)).isoformat()
    assert api.get("/api/v1/orders", query_string={"updated_since": later}).get_json()["items"] == []
    assert [o["number"] for o in _changes(api) if o["status"] == "confirmed"] == [old]


# The last two are well-formed, but outside the years 1 to 9999 once in UTC: refused, never a 500.
@pytest.mark.parametrize("since", ["yesterday", "2026-13-01T00:00:00Z", "2026-12-01T08:00:00", "",
                                   "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_bad_updated_since_is_a_422_problem(api, since):
    body = assert_problem(api.get("/api/v1/orders", query_string={"updated_since": since}), 422, "validation-error")
    assert "updated_since" in json.dumps(body["errors"])


def test_updated_since_in_any_offset_is_the_same_instant(api, plenty):
    assert api.order([{"sku": "LEU-USP-1KG", "quantity": 1}]).status_code == 201
    assert _changes(api, "0001-01-01T00:00:00Z") == _changes(api, "0001-01-01T02:00:00+02:00") != []


def test_a_cursor_of_the_other_list_is_refused(api, plenty):
    for _ in range(3):
        _place(api)
    newest = api.get("/api/v1/orders?limit=1").get_json()["next_cursor"]
    changed = api.get(f"/api/v1/orders?updated_since={EPOCH}&limit=1").get_json()["next_cursor"]
    assert_problem(api.get(f"/api/v1/orders?updated_since={EPOCH}&cursor={newest}"), 422, "validation-error")
    assert_problem(api.get(f"/api/v1/orders?cursor={changed}"), 422, "validation-error")


def test_another_companys_changes_never_appear(api, rival, plenty):
    mine = _place(api)
    _place(rival)
    assert [o["number"] for o in _changes(api)] == [mine]


def test_a_page_of_changes_costs_the_same_statements_for_one_order_or_many(api, plenty):
    number = _place(api)
    ordering.confirm_order(number)
    db.session.commit()
    with count_statements(fresh_session=True) as one:
        assert len(api.get(f"/api/v1/orders?updated_since={EPOCH}").get_json()["items"]) == 1
    for _ in range(4):
        ordering.confirm_order(_place(api))
        db.session.commit()
    with count_statements(fresh_session=True) as five:
        assert len(api.get(f"/api/v1/orders?updated_since={EPOCH}").get_json()["items"]) == 5
    assert len(five) == len(one), "\n".join(five)


def test_a_change_younger_than_the_settle_window_is_listed_once_it_is_old_enough(make_app, plenty):
    app = make_app()  # the default window: 5 seconds
    with app.app_context():
        api = new_api_client(app.test_client(), "late@acme.example", "Late Labs")
        number = _place(api)
        assert _changes(api) == []
        assert [o["number"] for o in api.get("/api/v1/orders").get_json()["items"]] == [number]  # the plain list
        db.session.remove()


def test_order_list_answers_describe_the_new_members_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    order = spec["components"]["schemas"]["Order"]["properties"]
    for name in ("updated_at", "version", "confirmed_at", "shipped_at", "delivered_at", "cancelled_at", "placed_by"):
        assert order[name].get("description"), name
    line = spec["components"]["schemas"]["OrderLine"]["properties"]
    assert line["pack_size_kg"]["format"] == "decimal" and line["net_mass_kg"]["description"]
    params = {p["name"]: p for p in spec["paths"]["/api/v1/orders"]["get"]["parameters"]}
    assert params["updated_since"]["schema"]["format"] == "date-time"


def test_a_recall_notice_is_a_change_of_every_order_it_lands_on_open_or_shipped(api):
    product = make_product()
    make_lot(product, "L-FIRST", {"LEU-USP-25KG": 4}, expires_in_days=300)
    make_lot(product, "L-SECOND", {"LEU-USP-25KG": 20}, expires_in_days=600)
    shipped, open_order = _place(api), _place(api)  # both draw from L-FIRST
    ordering.confirm_order(shipped)
    ship_paid(shipped, "1Z999")
    db.session.commit()
    before = _changes(api)[-1]["updated_at"]

    signed_recall("L-FIRST", "Foreign matter")
    db.session.commit()
    db.session.remove()  # the requests below read as a new request does, not the test's loaded orders

    changed = {o["number"]: o for o in _changes(api, before) if o["updated_at"] > before}
    assert set(changed) == {shipped, open_order}
    assert changed[shipped]["version"] == 4 and changed[shipped]["notices"][0]["lot_number"] == "L-FIRST"
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "order.changed")).one()
    assert json.loads(event.data)["notices"] == changed[open_order]["notices"] != []  # told in its event too
    assert json.loads(event.data)["version"] == changed[open_order]["version"] == 2


def test_a_recall_that_leaves_an_order_short_is_one_change_told_by_two_events_of_one_version(api):
    """order.changed and order.needs_attention tell one change (the recall): both carry version 2, so that a
    receiver that checks versions never waits for a version no event carries."""
    make_lot(make_product(), "L-PIN", {"LEU-USP-25KG": 4}, expires_in_days=300)
    response = api.order([{"sku": "LEU-USP-25KG", "quantity": 2, "lot_number": "L-PIN"}])
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]

    signed_recall("L-PIN", "Foreign matter")
    db.session.commit()
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.subject == number).order_by(OutboxEvent.id))
    told = [(e.type, json.loads(e.data)["version"]) for e in events]
    assert sorted(told) == [("order.changed", 2), ("order.needs_attention", 2), ("order.placed", 1)]
    assert api.get(f"/api/v1/orders/{number}").get_json()["version"] == 2
