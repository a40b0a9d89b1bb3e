"""Every e-mail through the outbox: a message survives the queue being down at COMMIT and a worker killed after the
fan-out, and is then sent exactly once; an SMTP server that refuses or is absent gets it later, or staff see it
given up; a recall notice counts as sent once its message is; and no log line carries an address or a body."""
from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select

from shop import jobs, ordering
from shop.ordering.models import OrderNotice
from shop.platform import mail
from shop.platform.extensions import db
from shop.platform.queue import task_queue
from tests.support.api import ADDRESS
from tests.support.factories import make_customer, make_lot, make_product, make_staff, signed_recall
from tests.support.mail import SmtpServer, drain, free_port, lose_queued_tasks, outbox_mail, run_periodic_jobs
from tests.support.staff import sign_in as staff_sign_in

QUEUE_DOWN = {"TASK_QUEUE": "redis", "REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens on port 1


def smtp_config(port: int, schedule: list[float]) -> dict:
    return {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
            "MAIL_TIMEOUT": 5, "MAIL_RETRY_SCHEDULE": schedule, "OUTBOX_SWEEP_AFTER_SECONDS": 0}


@pytest.fixture
def smtp_port():
    return free_port()


def test_a_mail_committed_while_the_queue_is_down_is_sent_once_by_the_sweep(make_app):
    with make_app(**QUEUE_DOWN).app_context():  # the web process, its Redis unreachable at COMMIT
        make_lot(make_product(), "L-OLD", {"LEU-USP-25KG": 3}, expires_in_days=30)
        make_staff("warehouse")
        assert jobs.expiry_alert() == 1  # commits its message; the hand-over fails
        db.session.remove()

    with make_app(OUTBOX_SWEEP_AFTER_SECONDS=0).app_context():  # a worker, once the queue is back
        drain()
        assert outbox_mail() == []  # nothing was handed over
        run_periodic_jobs()
        drain()
        run_periodic_jobs()  # a second sweep finds nothing left to send
        drain()
        (message,) = outbox_mail()
        assert "warehouse@shop.example" in message.to and "L-OLD" in message.body
        db.session.remove()


def test_a_mail_whose_worker_was_killed_after_the_fan_out_is_sent_once(make_app):
    app = make_app(OUTBOX_SWEEP_AFTER_SECONDS=0)
    with app.app_context():
        make_lot(make_product(), "L-KILL", {"LEU-USP-25KG": 3})
        customer = make_customer("buyer@acme.example")
        order = ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
        db.session.commit()
        huey = task_queue().huey
        huey.execute(huey.dequeue())  # a worker fans the event out: its e-mail is committed ...
        assert lose_queued_tasks() == 1  # ... and the worker dies holding the task that would send it
        assert outbox_mail() == []

        run_periodic_jobs()
        run_periodic_jobs()  # two sweeps: the message is handed over twice, and claimed once
        drain()
        assert [m.subject for m in outbox_mail()] == [f"Order {order.number} received"]
        db.session.remove()


def test_a_recall_notice_counts_as_sent_once_the_smtp_server_accepts_its_message(make_app, smtp_port):
    server = SmtpServer(smtp_port)
    try:
        with make_app(**smtp_config(smtp_port, [1.0, 1.0])).app_context():
            make_lot(make_product(), "L-RC", {"LEU-USP-25KG": 5})
            customer = make_customer("buyer@acme.example")
            ordering.place_order(customer, [{"sku": "LEU-USP-25KG", "quantity": 1}], ADDRESS)
            drain()
            server.refusing = True  # busy: 451 for every message
            signed_recall("L-RC", "Foreign matter", note="Lot L-RC is recalled: do not use it.")
            drain()
            assert not any("Recall of lot" in content for _, content in server.messages)
            notices = db.session.scalars(select(OrderNotice)).all()
            assert notices and all(n.sent_at is None for n in notices)  # queued is not sent

            server.refusing = False
            time.sleep(1.1)  # the retry is due
            run_periodic_jobs()
            drain()
            recalls = [(to, content) for to, content in server.messages if "Recall of lot L-RC" in content]
            assert [to for to, _ in recalls] == [["buyer@acme.example"]]
            assert all(n.sent_at is not None for n in db.session.scalars(select(OrderNotice)))
            db.session.remove()
    finally:
        server.stop()


def test_a_mail_the_smtp_server_never_takes_is_given_up_and_shown_to_staff(make_app, smtp_port):
    app = make_app(**smtp_config(smtp_port, [0.0, 0.0]))  # nothing listens on smtp_port
    with app.app_context():
        make_lot(make_product(), "L-ABS", {"LEU-USP-25KG": 3})
        order = ordering.place_order(make_customer("buyer@acme.example"), [{"sku": "LEU-USP-25KG", "quantity": 1}],
                                     ADDRESS)
        drain()  # the first attempt and both retries fail
        run_periodic_jobs()  # given up: the sweep hands nothing over
        assert task_queue().run_pending() == 0

        client = app.test_client()
        staff_sign_in(client, "fulfilment")
        page = client.get("/staff/events").text
        given_up = page[page.index("E-mail given up on"):]
        assert f"Order {order.number} received" in given_up and "buyer@acme.example" in given_up
        assert "after 3 attempts" in given_up and "ConnectionRefusedError" in given_up
        db.session.remove()


def test_no_log_line_carries_a_recipient_or_the_body_of_a_mail(make_app, smtp_port, caplog):
    caplog.set_level(logging.DEBUG)
    with make_app(**QUEUE_DOWN).app_context():
        db.session.execute(select(1))
        mail.send("someone@acme.example", "Recall of lot L-LOG", "lot_recalled", lot_number="L-LOG",
                  message="Quarantine drum 7 at dock 4.", numbers=["LS-LOG"])
        db.session.commit()
        db.session.remove()
    with make_app(**smtp_config(smtp_port, [0.0])).app_context():  # a worker; no SMTP server there
        run_periodic_jobs()
        drain()
        db.session.remove()

    assert any("task queue" in record.getMessage() for record in caplog.records)  # the failures were logged
    assert "someone@acme.example" not in caplog.text and "Quarantine drum 7" not in caplog.text
