"""Each channel of an event fans out on its own: an e-mail whose template fails stops none of the event's webhook
deliveries, and an event whose fan-out keeps failing is given up after a bounded number of attempts and shown to
staff as failed."""
from __future__ import annotations

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import select

from shop import ordering
from shop.events import dispatch, webhooks
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from tests.support.api import ADDRESS
from tests.support.events import Receiver
from tests.support.factories import make_customer, make_lot, make_product
from tests.support.mail import drain, outbox_mail, run_periodic_jobs
from tests.support.staff import sign_in as staff_sign_in


@pytest.fixture
def broken_templates(tmp_path):
    """A template folder in which the buyer's receipt fails to render (a str plus an int: TypeError)."""
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "order_placed.txt").write_text("Order {{ order.number + 1 }}\n")
    return tmp_path


def test_an_event_whose_mail_fails_is_still_delivered_to_its_webhook_and_given_up_after_three_tries(
        make_app, broken_templates):
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, OUTBOX_SWEEP_AFTER_SECONDS=0, OUTBOX_FAN_OUT_ATTEMPTS=3)
    app.jinja_env.loader = ChoiceLoader([FileSystemLoader(broken_templates), app.jinja_env.loader])
    with Receiver() as receiver, app.app_context():
        make_lot(make_product(), "L-CHAN", {"LEU-USP-25KG": 3})
        customer = make_customer("buyer@acme.example")
        webhooks.create_endpoint(customer, receiver.url, ["order.placed"])
        order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
        drain()
        assert [r.json["data"]["number"] for r in receiver.received] == [order.number]

        for _ in range(2):  # the sweep tries the e-mail again, every minute: twice more
            run_periodic_jobs()
            drain()
        event = db.session.scalar(select(OutboxEvent))
        assert event.fan_out_failures == 3 and event.failed_at is not None and event.mail_fanned_out_at is None
        assert "TypeError" in event.last_error
        assert dispatch.sweep() == 0  # given up: no more tries
        assert len(receiver.received) == 1 and outbox_mail() == []

        client = app.test_client()
        staff_sign_in(client, "fulfilment")
        page = client.get("/staff/events").text
        assert "fan-out failed" in page and "after 3 attempts" in page and "no e-mail" in page
        db.session.remove()
