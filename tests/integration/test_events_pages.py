"""The webhooks page of a customer's account and the staff events page."""
from __future__ import annotations

import re

import pytest

from shop import ordering
from shop.platform.extensions import db
from shop.platform.queue import task_queue
from tests.support.api import ADDRESS
from tests.support.events import Receiver, app_with_local_receivers, run_worker
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.staff import sign_in as staff_sign_in
from tests.support.storefront import sign_in


@pytest.fixture
def app(make_app):
    yield from app_with_local_receivers(make_app)


@pytest.fixture
def receiver():
    receiver = Receiver([503])
    yield receiver
    receiver.close()


def test_a_customer_registers_an_endpoint_sees_the_secret_once_and_its_log(app, client, receiver):
    customer = make_customer()
    sign_in(client)
    page = client.post("/account/webhooks", data={"url": "ftp://x", "events": ["*"]})
    assert page.status_code == 422 and "https://" in page.text

    page = client.post("/account/webhooks", data={"url": receiver.url, "events": ["order.placed", "order.shipped"]})
    assert page.status_code == 201
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", page.text).group(0)
    again = client.get("/account/webhooks")
    assert receiver.url in again.text and secret not in again.text

    make_lot(make_product(), "L-PAGE", {"LEU-USP-25KG": 2})
    order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    db.session.commit()
    run_worker(lambda: len(receiver.received) >= 1)
    log = client.get("/account/webhooks").text
    assert "order.placed" in log and order.number in log and "503" in log

    form = re.search(r'action="(/account/webhooks/\d+/redeliver)".*?name="event_id" value="([^"]+)"', log, re.S)
    assert client.post(form.group(1), data={"event_id": form.group(2)}).status_code == 302
    assert client.post(form.group(1), data={"event_id": "msg_not_mine"}).status_code == 404
    run_worker(lambda: len(receiver.received) >= 2)
    assert receiver.received[1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]


def test_staff_filter_events_by_customer_type_and_outcome_and_redeliver(app, client, receiver):
    acme, rival = make_customer("buyer@acme.example", "Acme"), make_customer("buyer@rival.example", "Rival")
    from shop.events import webhooks

    webhooks.create_endpoint(acme, receiver.url, ["*"])
    make_lot(make_product(), "L-STAFF", {"LEU-USP-25KG": 5})
    mine = ordering.place_order(acme, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    theirs = ordering.place_order(rival, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    db.session.commit()
    run_worker(lambda: len(receiver.received) >= 1)  # Acme's endpoint answers 503: pending, to retry

    staff_sign_in(client, "fulfilment")
    everything = client.get("/staff/events").text
    assert mine.number in everything and theirs.number in everything
    assert ">Acme<br>" in everything and ">Rival<br>" in everything  # the companies by name
    acme_only = client.get("/staff/events?customer=acme").text
    assert mine.number in acme_only and theirs.number not in acme_only
    assert mine.number not in client.get("/staff/events?customer=_").text  # searched as text, not as a wildcard
    pending = client.get("/staff/events?outcome=pending").text
    assert mine.number in pending and theirs.number not in pending
    assert theirs.number in client.get("/staff/events?outcome=none&type=order.placed").text
    assert client.get("/staff/events?type=order.teleported").status_code == 400

    button = re.search(r'action="(/staff/deliveries/\d+/redeliver)"', pending).group(1)
    assert client.post(button).status_code == 302
    task_queue().run_pending()
    assert len(receiver.received) == 2


def test_the_events_page_is_for_fulfilment_and_admins(app, client):
    staff_sign_in(client, "quality")
    assert client.get("/staff/events").status_code == 403
