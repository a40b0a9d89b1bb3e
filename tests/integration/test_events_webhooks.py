"""Webhooks against a real HTTP receiver: signed order events equal to the API's order, retries with the same id,
nothing announced for what rolled back, nothing lost when a process dies, one delivery with two workers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from standardwebhooks import Webhook

from shop import ordering
from shop.accounts import people as accounts
from shop.events import delivery, dispatch
from shop.events.models import WebhookDelivery
from shop.platform import retry
from shop.platform.errors import InsufficientStock
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from shop.platform.queue import TaskQueue, task_queue
from tests.support.api import ADDRESS, ApiClient, admin_key, new_api_client, register_endpoint
from tests.support.billing import ship_paid
from tests.support.events import Receiver, run_worker
from tests.support.factories import make_lot, make_product
from tests.support.mail import outbox_mail
from tests.support.sql import count_statements

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(make_app):
    """Deliveries may go to the local receiver; retries come at once; the sweep takes any waiting event."""
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, WEBHOOK_RETRY_SCHEDULE=[0.0, 0.0, 0.0], OUTBOX_SWEEP_AFTER_SECONDS=0)
    with app.app_context():
        yield app
        db.session.remove()


def test_placed_order_arrives_signed_with_the_body_of_get_order(api, stocked, receiver):
    endpoint = register_endpoint(api, receiver.url, ["order.placed"])
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
    number = api.order(key="k-1").get_json()["number"]

    run_worker(lambda: len(receiver.received) >= 1)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)  # the reference library: raises if forged
    assert payload["type"] == "order.placed" and payload["id"] == got.headers["webhook-id"]
    assert payload["data"] == api.get(f"/api/v1/orders/{number}").get_json()
    with pytest.raises(Exception):  # noqa: B017 - any verification error: another endpoint's secret does not fit
        Webhook(register_endpoint(api, receiver.url)["secret"]).verify(got.body, got.headers)


def test_a_500_is_retried_with_the_same_webhook_id_and_both_attempts_are_logged(api, stocked, receiver):
    receiver.statuses = [500]
    endpoint = register_endpoint(api, receiver.url, ["order.placed"])
    api.order()

    run_worker(lambda: len(receiver.received) >= 2)

    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    log = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["items"]
    assert [(item["status_code"], item["event_type"]) for item in log] == [(200, "order.placed"),
                                                                           (500, "order.placed")]
    assert log[1]["error"] == "HTTP 500" and log[0]["error"] is None
    assert log[0]["event_id"] == first.headers["webhook-id"]


def test_an_order_that_rolls_back_announces_nothing(api, stocked, receiver):
    register_endpoint(api, receiver.url)
    ordering.place_order(api.customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    db.session.rollback()
    with pytest.raises(InsufficientStock):
        ordering.place_order(api.customer, [{"sku": "LEU-USP-25KG", "quantity": 999}], ADDRESS)
    db.session.rollback()
    assert api.order([{"sku": "LEU-USP-25KG", "quantity": 999}]).status_code == 409

    assert task_queue().run_pending() == 0
    dispatch.sweep()
    assert task_queue().run_pending() == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    assert receiver.received == []


def test_an_event_whose_hand_over_died_after_commit_is_delivered_by_the_sweep(api, stocked, receiver, monkeypatch):
    register_endpoint(api, receiver.url)

    def queue_gone(self, name, *args, delay=0):
        raise ConnectionError("the process died between COMMIT and the hand-over")

    with monkeypatch.context() as patched:
        patched.setattr(TaskQueue, "enqueue", queue_gone)
        number = api.order().get_json()["number"]  # committed; its hand-over never happened
    assert task_queue().run_pending() == 0 and receiver.received == []

    assert dispatch.sweep() == 1  # the periodic job
    run_worker(lambda: len(receiver.received) >= 1)
    assert [r.json["data"]["number"] for r in receiver.received] == [number]


def test_a_delivery_whose_worker_died_mid_attempt_is_delivered_after_its_lease(api, stocked, receiver):
    register_endpoint(api, receiver.url)
    api.order()
    dispatch.dispatch(db.session.scalar(select(OutboxEvent.event_id)))  # fanned out: one delivery for a worker ...
    delivery_id = db.session.scalar(select(WebhookDelivery.id))
    assert delivery._claim(delivery_id) is not None  # ... which claimed it and died before it posted
    db.session.commit()
    task_queue().run_pending()
    assert receiver.received == [] and delivery.sweep_due() == 0  # held by the dead worker's lease

    held = db.session.get(WebhookDelivery, delivery_id)
    held.claimed_until = held.next_attempt_at  # the lease ran out
    db.session.commit()
    assert delivery.sweep_due() == 1
    run_worker(lambda: len(receiver.received) >= 1)
    assert len(receiver.received) == 1


def test_two_workers_deliver_each_event_once(api, stocked, receiver):
    register_endpoint(api, receiver.url)
    numbers = {api.order().get_json()["number"] for _ in range(3)}
    dispatch.sweep()  # the sweep hands every event over a second time, racing the first hand-over

    first, second = task_queue().worker(2, periodic=False, keep_signals=True), None
    try:
        second = task_queue().worker(2, periodic=False, keep_signals=True)
        run_worker(lambda: len(receiver.received) >= 3, settle=1.0)
    finally:
        for consumer in (first, second):
            if consumer is not None:
                consumer.stop(graceful=True)
    assert sorted(r.json["data"]["number"] for r in receiver.received) == sorted(numbers)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 3


def test_a_receiver_that_does_not_answer_holds_up_no_email(api, stocked):
    """Webhook deliveries have a lane and threads of their own: while the only delivery thread waits on a receiver
    that does not answer, the worker's other thread still sends the next order's e-mail, well before the
    delivery's timeout (WEBHOOK_TIMEOUT_SECONDS, 10 s)."""
    receiver = Receiver(hold_first=True)
    try:
        register_endpoint(api, receiver.url, ["order.placed"])
        api.order()
        db.session.remove()
        workers = task_queue().worker(1, periodic=False, keep_signals=True)  # one thread per lane
        try:
            _wait_for(lambda: receiver.received, "the first order's delivery")  # its POST waits for an answer
            number = api.order().get_json()["number"]
            db.session.remove()
            _wait_for(lambda: any(number in m.subject for m in outbox_mail()), "the e-mail, not the receiver",
                      seconds=8)  # less than the delivery's timeout, after which one lane would free its thread
            assert len(receiver.received) == 1 and not receiver.release.is_set()  # the POST still waits
        finally:
            receiver.release.set()
            workers.stop(graceful=True)
    finally:
        receiver.close()


def test_a_slow_receiver_holds_at_most_its_share_of_the_delivery_threads(api, rival, stocked):
    """Four deliveries to an endpoint that answers each POST after 3 s are queued before another company's,
    with three delivery threads: the slow endpoint holds WEBHOOK_IN_FLIGHT_PER_ENDPOINT (2) of them, so the other
    company's delivery goes out at once; each of the slow endpoint's attempts that ends hands over its next one, so
    all four arrive too."""
    slow, quick = Receiver(answer_after=3.0), Receiver()  # slow enough that none answers before the other is sent
    try:
        register_endpoint(api, slow.url, ["order.placed"])
        register_endpoint(rival, quick.url, ["order.placed"])
        for _ in range(4):
            api.order()
        rival.order()
        db.session.remove()
        workers = task_queue().worker(1, webhook_workers=3, periodic=False, keep_signals=True)
        try:
            _wait_for(lambda: quick.received, "the other company's delivery")
            assert len(slow.received) == 2  # in flight: the third thread took the other company's
            _wait_for(lambda: len(slow.received) == 4, "every delivery to the slow endpoint", seconds=15)
        finally:
            workers.stop(graceful=True)
    finally:
        slow.close()
        quick.close()
    assert len({r.headers["webhook-id"] for r in slow.received}) == 4


def _wait_for(condition, what: str, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


def test_ping_and_redelivery_reach_the_endpoint_again_with_the_same_id(api, stocked, receiver):
    api = admin_key(api)
    endpoint = register_endpoint(api, receiver.url)
    assert api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/test").status_code == 202
    run_worker(lambda: len(receiver.received) >= 1)
    ping = receiver.received[0]
    assert ping.json["type"] == "ping"

    response = api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/redeliver",
                        json={"event_id": ping.headers["webhook-id"]})
    assert response.status_code == 202
    run_worker(lambda: len(receiver.received) >= 2)
    assert receiver.received[1].headers["webhook-id"] == ping.headers["webhook-id"]
    unknown = api.post(f"/api/v1/webhook-endpoints/{endpoint['id']}/redeliver", json={"event_id": "msg_nope"})
    assert unknown.status_code == 422


def test_another_customers_endpoint_is_404_and_delete_removes_it(api, rival, receiver):
    api, rival = admin_key(api), admin_key(rival)
    endpoint = register_endpoint(api, receiver.url)
    assert rival.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").status_code == 404
    assert rival.client.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}",
                               headers=rival.headers()).status_code == 404
    listed = api.get("/api/v1/webhook-endpoints").get_json()["items"]
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert api.client.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}", headers=api.headers()).status_code == 204
    assert api.get("/api/v1/webhook-endpoints").get_json()["items"] == []


def test_a_deleted_endpoints_id_is_never_given_again(api, receiver):
    """On SQLite as on PostgreSQL: after the newest endpoint is deleted, the next one gets a new id, so a DELETE
    retried with the old id (its first answer lost) is 404 and cannot remove the new endpoint."""
    api = admin_key(api)
    register_endpoint(api, receiver.url)
    newest = register_endpoint(api, receiver.url)
    delete = f"/api/v1/webhook-endpoints/{newest['id']}"
    assert api.client.delete(delete, headers=api.headers()).status_code == 204
    again = register_endpoint(api, receiver.url)
    assert again["id"] > newest["id"]
    assert api.client.delete(delete, headers=api.headers()).status_code == 404
    assert again["id"] in [e["id"] for e in api.get("/api/v1/webhook-endpoints").get_json()["items"]]


def test_a_retried_registration_registers_once_and_gets_the_secret_again(api, receiver):
    """An integrator whose first answer was lost retries with the same Idempotency-Key: it must get the same
    endpoint and the secret it never saw, not a second endpoint."""
    api = admin_key(api)
    body = {"url": receiver.url, "events": ["order.placed"], "description": "ERP"}
    first = api.post("/api/v1/webhook-endpoints", json=body, key="hook-1")
    again = api.post("/api/v1/webhook-endpoints", json=body, key="hook-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.get_json()["secret"].startswith("whsec_")
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert [e["id"] for e in api.get("/api/v1/webhook-endpoints").get_json()["items"]] == [first.get_json()["id"]]

    other = api.post("/api/v1/webhook-endpoints", json={**body, "description": "CRM"}, key="hook-1")
    assert other.status_code == 422 and other.get_json()["type"].endswith("/idempotency-key-reused")
    refused = {"url": "http://127.0.0.1:1/hook", "events": ["nope"]}
    assert api.post("/api/v1/webhook-endpoints", json=refused, key="hook-2").status_code == 422
    # A refusal for what was sent keeps nothing: the corrected registration may use the key.
    again_refused = api.post("/api/v1/webhook-endpoints", json=refused, key="hook-2")
    assert again_refused.status_code == 422 and "Idempotent-Replayed" not in again_refused.headers
    assert len(api.get("/api/v1/webhook-endpoints").get_json()["items"]) == 1
    corrected = api.post("/api/v1/webhook-endpoints", json={**body, "description": "CRM"}, key="hook-2")
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers


def test_a_retried_ping_or_redelivery_is_sent_once(api, stocked, receiver):
    api = admin_key(api)
    endpoint = register_endpoint(api, receiver.url)
    path = f"/api/v1/webhook-endpoints/{endpoint['id']}"
    pings = [api.post(f"{path}/test", key="ping-1") for _ in range(2)]
    assert [p.status_code for p in pings] == [202, 202] and pings[0].get_json() == pings[1].get_json()
    event_id = pings[0].get_json()["event_id"]
    run_worker(lambda: len(receiver.received) >= 1, settle=0.5)  # a second ping would arrive meanwhile
    assert [r.headers["webhook-id"] for r in receiver.received] == [event_id]

    redeliveries = [api.post(f"{path}/redeliver", json={"event_id": event_id}, key="again-1") for _ in range(2)]
    assert [r.status_code for r in redeliveries] == [202, 202]
    assert redeliveries[1].headers["Idempotent-Replayed"] == "true"
    run_worker(lambda: len(receiver.received) >= 2, settle=0.5)
    assert [r.headers["webhook-id"] for r in receiver.received] == [event_id, event_id]  # the ping, and once again
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "ping")) == 1


def test_a_worker_process_killed_mid_delivery_loses_nothing(make_app, database_url, tmp_path):
    """A real `flask shop worker` process takes the event and is killed (SIGKILL) while its POST is in flight:
    once its lease runs out, the sweep hands the delivery to another worker, with the same webhook-id."""
    settings = {"TASK_QUEUE_FILE": str(tmp_path / "tasks.sqlite3"), "WEBHOOK_TIMEOUT_SECONDS": "2",
                "WEBHOOK_LEASE_MARGIN_SECONDS": "1", "WEBHOOK_ALLOW_INSECURE": "1"}
    app = make_app(TASK_QUEUE="sqlite", TASK_QUEUE_FILE=settings["TASK_QUEUE_FILE"], WEBHOOK_ALLOW_INSECURE=True,
                   WEBHOOK_TIMEOUT_SECONDS=2, WEBHOOK_LEASE_MARGIN_SECONDS=1)
    receiver = Receiver(hold_first=True)
    worker = None
    try:
        with app.app_context():
            api = new_api_client(app.test_client(), "buyer@acme.example", "Acme")
            make_lot(make_product(), "L-KILL", {"LEU-USP-25KG": 2})
            endpoint = register_endpoint(api, receiver.url, ["order.placed"])
            number = api.order().get_json()["number"]
            db.session.remove()

            env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "REDIS_URL"))}
            env.update(settings, DATABASE_URL=database_url, SECRET_KEY="test-secret", MAIL_BACKEND="dummy")
            worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "shop", "worker"],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 20
            while not receiver.received:  # the worker's POST is in flight: the receiver holds its answer
                assert time.monotonic() < deadline and worker.poll() is None, "the worker did not deliver"
                time.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            receiver.release.set()

            time.sleep(3.1)  # the dead worker's lease: the timeout (2 s) plus the margin (1 s)
            assert delivery.sweep_due() == 1
            run_worker(lambda: len(receiver.received) >= 2)
            first, again = receiver.received
            assert again.json["data"]["number"] == number
            assert again.headers["webhook-id"] == first.headers["webhook-id"]
            log = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries")
            assert [item["status_code"] for item in log.get_json()["items"]] == [200]
            db.session.remove()
    finally:
        if worker is not None and worker.poll() is None:
            worker.kill()
        receiver.close()


def test_an_orders_event_is_written_with_it_in_no_statement_of_its_own_on_postgresql(api, stocked):

    api.order(key="warm-up")
    with count_statements(fresh_session=True) as statements:
        assert api.order(key="counted").status_code == 201
    outbox_writes = [s for s in statements if "outbox_event" in s]
    assert len(outbox_writes) == 1
    if db.engine.dialect.name == "postgresql":
        # The API key with the record, the pack sizes, then the order with its event (and the stock) at once.
        assert len(statements) == 3 and "INSERT INTO outbox_event" in statements[-1]
    else:
        assert outbox_writes[0].lstrip().upper().startswith("INSERT")


@given(st.lists(st.floats(0, 604_800), min_size=1, max_size=10))
def test_a_delivery_or_mail_is_attempted_once_and_then_once_per_delay_of_the_schedule(schedule):
    delays = []
    failed = 1
    while (delay := retry.retry_delay(failed, schedule)) is not None:
        delays.append(delay)
        failed += 1
    assert delays == schedule  # the same delays, in order, then it gives up
    assert retry.retry_delay(0, schedule) is None


def test_each_status_change_is_an_event_with_the_order_as_committed(api, stocked):
    number = api.order().get_json()["number"]
    ordering.confirm_order(number)
    db.session.commit()
    ship_paid(number, "1Z999", carrier="DHL Freight")
    db.session.commit()
    ordering.deliver_order(number)
    db.session.rollback()  # not delivered after all: no event

    events = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(e.type, e.subject) for e in events][:3] == [("order.placed", number), ("order.confirmed", number),
                                                         ("order.shipped", number)]
    assert [e.type for e in events[3:]] == ["invoice.issued"]  # the shipment's invoice
    shipped = json.loads(events[2].data)
    assert shipped == {**api.get(f"/api/v1/orders/{number}").get_json(), "shipment": f"{number}-S1"}
    assert shipped["status"] == "shipped" and shipped["carrier"] == "DHL Freight"
    assert shipped["tracking_reference"] == "1Z999"


def test_an_endpoint_that_refuses_the_connection_is_logged_as_such(api, stocked):
    with Receiver() as closed:  # a port that was free a moment ago, and is closed now
        url = closed.url
    endpoint = register_endpoint(api, url, ["order.placed"])
    api.order()
    task_queue().run_pending()
    log = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["items"]
    assert len(log) == 4  # the first attempt and the schedule's three retries, then it gave up
    assert all(a["status_code"] is None and a["error"].startswith("Could not connect") for a in log)


def test_every_endpoint_of_a_company_gets_its_members_events_and_no_other_company_does(api, rival, stocked,
                                                                                      receiver, client):
    from shop.accounts import companies

    it_person = companies.invite_member(api.customer, "it@acme.example", "admin")
    db.session.commit()
    it_api = ApiClient(client, accounts.create_api_key(it_person, "ERP"), it_person)
    db.session.commit()
    endpoint = register_endpoint(it_api, receiver.url, ["order.placed"])  # the IT person's endpoint...
    rivals = register_endpoint(rival, receiver.url, ["order.placed"])
    assert [e["id"] for e in api.get("/api/v1/webhook-endpoints").get_json()["items"]] == [endpoint["id"]]
    assert api.get(f"/api/v1/webhook-endpoints/{rivals['id']}/deliveries").status_code == 404

    number = api.order().get_json()["number"]  # ...gets the purchaser's order

    run_worker(lambda: len(receiver.received) >= 1)
    assert len(receiver.received) == 1
    payload = Webhook(endpoint["secret"]).verify(receiver.received[0].body, receiver.received[0].headers)
    assert payload["type"] == "order.placed" and payload["data"]["number"] == number
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                             .where(WebhookDelivery.endpoint_id == rivals["id"])) == 0


def test_approving_an_order_is_an_order_approved_event_and_the_workers_cancel_one_left_waiting(api, stocked):
    from datetime import timedelta

    from shop.accounts import companies
    from shop.ordering import approvals
    from shop.ordering.models import Order, OrderStatus

    companies.set_terms(api.customer.company, approval_threshold="100")
    approver = companies.invite_member(api.customer, "boss@acme.example", "approver")
    buyer = companies.invite_member(api.customer, "buyer2@acme.example", "buyer")
    db.session.commit()
    buyer_api = ApiClient(api.client, accounts.create_api_key(buyer, "ERP"), buyer)
    db.session.commit()
    first, second = (buyer_api.order().get_json()["number"] for _ in range(2))
    approvals.approve(first, approver)
    db.session.commit()
    db.session.scalar(select(Order).where(Order.number == second)).placed_at -= timedelta(hours=1000)
    db.session.commit()

    task_queue().enqueue("expire_approvals")  # the periodic job, by its name, as a worker runs it
    task_queue().run_pending()

    db.session.expire_all()
    assert db.session.scalar(select(Order.status).where(Order.number == second)) == OrderStatus.CANCELLED
    events = [(e.type, e.subject) for e in db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]
    assert ("order.approved", first) in events and ("order.cancelled", second) in events
