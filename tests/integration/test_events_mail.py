"""E-mail: shop.mail.send after COMMIT only, HTML with a plain-text part and absolute links; the buyer's mail of a
shipment through a real SMTP server; recall notices; an endpoint failing for days is disabled and its owner told."""
from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop import ordering
from shop.events import dispatch, webhooks
from shop.events.models import WebhookEndpoint
from shop.ordering.models import OrderNotice
from shop.platform import mail
from shop.platform.database import utcnow
from shop.platform.errors import IllegalTransition
from shop.platform.extensions import db
from shop.platform.queue import task_queue
from tests.support.api import ADDRESS
from tests.support.billing import ship_paid
from tests.support.events import Receiver
from tests.support.factories import make_company_with_approval, make_customer, make_lot, make_product, signed_recall
from tests.support.mail import drain, outbox_mail


def test_mail_waits_for_commit_and_a_rollback_sends_nothing(app):
    app.config["PUBLIC_BASE_URL"] = "https://shop.example.com"
    db.session.execute(select(1))  # a transaction is open
    mail.send("someone@example.com", "Lot expiring", "expiry_alert", lots=[], days=90, today=utcnow().date())
    db.session.rollback()
    drain()
    assert outbox_mail() == []

    db.session.execute(select(1))
    mail.send(["a@example.com", "b@example.com"], "Recall of lot L-1", "lot_recalled", lot_number="L-1",
              message="Please quarantine.", numbers=["LS-1"])
    task_queue().run_pending()
    assert outbox_mail() == []  # not before COMMIT
    drain()
    (message,) = outbox_mail()
    assert message.to == ["a@example.com", "b@example.com"] and message.subject == "Recall of lot L-1"
    html, kind = message.alternatives[0]
    assert kind == "text/html" and "https://shop.example.com/coa/L-1" in html and "Please quarantine." in html
    assert "https://shop.example.com/coa/L-1" in message.body and "<" not in message.body


def test_placed_cancelled_and_recalled_orders_mail_the_buyer(app):
    product = make_product()
    make_lot(product, "L-MAIL", {"LEU-USP-25KG": 5})
    customer = make_customer("buyer@acme.example")
    first = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    second = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 2}], ADDRESS)
    drain()
    ordering.cancel_order(first.number, customer=customer)
    drain()
    signed_recall("L-MAIL", "Foreign matter", note="Lot L-MAIL is recalled: do not use it.")
    drain()

    subjects = [m.subject for m in outbox_mail()]
    assert subjects == [f"Order {first.number} received", f"Order {second.number} received",
                        f"Order {first.number} was cancelled", "Recall of lot L-MAIL"]
    receipt = " ".join(outbox_mail()[1].body.split())  # prepaid, the default terms: told what to pay, against what
    assert (f"This order is prepaid: it ships once paid in full. Still to pay: {second.total:,.2f} EUR, against the "
            f"pro-forma invoice (PDF): ") in receipt and f"/orders/{second.number}/proforma.pdf" in receipt
    recall = outbox_mail()[-1]
    assert second.number in recall.body and first.number not in recall.body
    assert "do not use it" in recall.body
    notices = db.session.scalars(select(OrderNotice)).all()
    assert notices and all(n.sent_at is not None for n in notices)


def test_a_shipment_mails_the_buyer_carrier_tracking_and_lots_over_smtp(make_app, smtp_server):
    server = smtp_server
    app = make_app(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False,
                   PUBLIC_BASE_URL="https://shop.example.com")
    with app.app_context():
        product = make_product()
        make_lot(product, "L-SHIP-1", {"LEU-USP-25KG": 1}, expires_in_days=300)
        make_lot(product, "L-SHIP-2", {"LEU-USP-25KG": 5}, expires_in_days=600)
        customer = make_customer("buyer@acme.example")
        order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 3}], ADDRESS)
        db.session.commit()
        ordering.confirm_order(order.number)
        ship_paid(order.number, "1Z999AA10123456784", carrier="UPS")
        drain()
        db.session.remove()

    deadline = time.monotonic() + 5
    while not any("has shipped" in content for _, content in server.messages) and time.monotonic() < deadline:
        time.sleep(0.05)
    shipped = [(to, content) for to, content in server.messages if "has shipped" in content]
    assert len(shipped) == 1
    to, content = shipped[0]
    assert to == ["buyer@acme.example"]
    for expected in ("1Z999AA10123456784", "UPS", "L-SHIP-1", "L-SHIP-2", "https://shop.example.com/coa/L-SHIP-1",
                     "text/plain", "text/html"):
        assert expected in content


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_owner_told(make_app):
    app = make_app(WEBHOOK_ALLOW_INSECURE=True, WEBHOOK_RETRY_SCHEDULE=[0.0])
    receiver = Receiver([500, 500, 500])
    try:
        with app.app_context():
            customer = make_customer("owner@acme.example")
            endpoint = webhooks.create_endpoint(customer, receiver.url, ["*"])
            endpoint.failing_since = utcnow() - timedelta(days=5, minutes=1)
            webhooks.send_test(customer, endpoint.id)
            drain()
            endpoint = db.session.scalar(select(WebhookEndpoint))
            assert not endpoint.enabled and endpoint.disabled_at is not None
            assert [m.to for m in outbox_mail()] == [["owner@acme.example"]]
            assert "disabled" in outbox_mail()[0].subject
            with pytest.raises(IllegalTransition, match="sends nothing now: It failed every delivery for 120 hours"):
                webhooks.send_test(customer, endpoint.id)  # a disabled endpoint is not called
            db.session.rollback()
            drain()
            assert len(receiver.received) == 1
            db.session.remove()
    finally:
        receiver.close()


REDIS_URL = os.environ.get("TEST_REDIS_URL")


def test_the_redis_queue_carries_an_event_to_the_receiver(make_app, request):
    if not REDIS_URL:
        if os.environ.get("SHOP_REQUIRE_REDIS") == "1":
            pytest.fail("SHOP_REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("the Redis queue test needs TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/13)")
    name = f"test-{os.getpid()}-{request.node.name}"[:60]
    app = make_app(TASK_QUEUE="redis", REDIS_URL=REDIS_URL, TASK_QUEUE_NAME=name, WEBHOOK_ALLOW_INSECURE=True,
                   OUTBOX_SWEEP_AFTER_SECONDS=0)
    receiver = Receiver()
    queue = None
    try:
        with app.app_context():
            queue = task_queue()
            queue.huey.flush()
            queue.webhooks.flush()
            product = make_product()
            make_lot(product, "L-REDIS", {"LEU-USP-25KG": 2})
            customer = make_customer()
            webhooks.create_endpoint(customer, receiver.url, ["order.placed"])
            order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
            db.session.commit()
            assert queue.huey.pending_count() == 1  # in Redis, for any worker on any machine
            from tests.support.events import run_worker

            run_worker(lambda: len(receiver.received) >= 1)  # the event by the main lane, its delivery by the other
            assert [r.json["data"]["number"] for r in receiver.received] == [order.number]
            assert dispatch.sweep() == 0
    finally:
        if queue is not None:
            queue.huey.flush()
            queue.webhooks.flush()
        receiver.close()


def test_the_daily_expiry_alert_mails_warehouse_quality_and_admin_staff(app):
    from shop import jobs as maintenance
    from tests.support.factories import make_staff

    make_lot(make_product(), "L-OLD", {"LEU-USP-25KG": 3}, expires_in_days=30)
    make_lot(make_product("l-leucine-ep", "EP", "LEU-EP"), "L-NEW", {"LEU-EP-25KG": 3}, expires_in_days=400)
    for role in ("warehouse", "quality", "fulfilment"):
        make_staff(role)
    assert maintenance.expiry_alert() == 1
    drain()
    (message,) = outbox_mail()
    assert "warehouse@shop.example" in message.to and "quality@shop.example" in message.to
    assert "fulfilment@shop.example" not in message.to
    assert "L-OLD" in message.body and "L-NEW" not in message.body



def test_an_order_above_the_threshold_mails_its_buyer_and_asks_the_companys_approvers(app):
    make_lot(make_product(), "L-APPR", {"LEU-USP-25KG": 5})
    make_customer("first@other.example", "Other Labs")  # ids of people and companies no longer coincide
    buyer = make_company_with_approval()

    order = ordering.place_order(buyer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
    drain()

    receipt, request = outbox_mail()
    assert receipt.to == ["buyer@acme.example"] and receipt.subject == f"Order {order.number} received"
    assert request.to == ["admin@acme.example", "boss@acme.example"]
    assert request.subject == f"Order {order.number} awaits your approval"
    assert "http://127.0.0.1:5000/account/approvals" in request.body and "buyer@acme.example" in request.body
