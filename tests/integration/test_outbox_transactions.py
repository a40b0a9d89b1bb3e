"""The outbox's hand-over follows the outermost transaction: a SAVEPOINT rolled back inside a transaction keeps the
transaction's events, and a transaction rolled back whole hands nothing over."""
from __future__ import annotations

import json

from sqlalchemy import select

from shop.platform import outbox
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent
from shop.platform.queue import task_queue
from tests.support.sql import count_statements


def handed_over(event_id: str) -> bool:
    db.session.expire_all()
    fanned_out = select(OutboxEvent.webhooks_fanned_out_at).where(OutboxEvent.event_id == event_id)
    return db.session.scalar(fanned_out) is not None


def test_a_savepoint_rolled_back_inside_a_transaction_loses_no_event_of_the_outer_one(app):
    _, event_id = outbox.record("lot.recalled", {"lot_number": "L-1"}, customer_id=None, subject="L-1")
    savepoint = db.session.begin_nested()
    outbox.record("lot.recalled", {"lot_number": "L-2"}, customer_id=None, subject="L-2")
    savepoint.rollback()
    db.session.commit()
    task_queue().run_pending()  # no sweep: only the hand-over queued at COMMIT
    assert handed_over(event_id)
    assert db.session.scalars(select(OutboxEvent.subject)).all() == ["L-1"]


def test_a_transaction_rolled_back_whole_hands_nothing_over(app):
    outbox.record("lot.recalled", {"lot_number": "L-1"}, customer_id=None, subject="L-1")
    db.session.rollback()
    _, kept = outbox.record("lot.recalled", {"lot_number": "L-3"}, customer_id=None, subject="L-3")
    db.session.commit()
    assert task_queue().run_pending() == 1  # only the committed event's hand-over
    assert handed_over(kept)


def test_an_event_announced_in_a_rolled_back_savepoint_is_not_written_and_the_outer_ones_are(app):
    outbox.announce(outbox.Event("lot.recalled", {"lot_number": "L-1"}, None, "L-1"))
    savepoint = db.session.begin_nested()
    outbox.announce(outbox.Event("lot.recalled", {"lot_number": "L-2"}, None, "L-2"))
    savepoint.rollback()
    kept = db.session.begin_nested()
    outbox.announce(outbox.Event("lot.recalled", lambda: {"lot_number": "L-3"}, None, "L-3"))  # read at COMMIT
    kept.commit()
    db.session.commit()
    assert task_queue().run_pending() == 2  # a hand-over for each written event, none for the rolled-back one
    db.session.expire_all()
    written = db.session.execute(select(OutboxEvent.subject, OutboxEvent.data, OutboxEvent.webhooks_fanned_out_at)
                                 .order_by(OutboxEvent.id)).all()
    assert [(subject, data) for subject, data, _ in written] == [("L-1", '{"lot_number":"L-1"}'),
                                                                 ("L-3", '{"lot_number":"L-3"}')]
    assert all(fanned_out is not None for _, _, fanned_out in written)


def test_a_thousand_events_announced_together_are_written_in_one_statement_as_announced(app):
    """A release that serves a thousand backorders announces a thousand events: one INSERT writes them all, each
    with its own data, in the order they were announced."""
    for n in range(1000):
        outbox.announce(outbox.Event("lot.recalled", {"lot_number": f"L-{n}", "note": "é\n'\"" * (n % 3)},
                                     None, f"L-{n}"))
    with count_statements() as seen:
        db.session.commit()
    assert len([s for s in seen if s.lstrip().upper().startswith("INSERT INTO OUTBOX_EVENT")]) == 1
    written = db.session.execute(select(OutboxEvent.subject, OutboxEvent.data, OutboxEvent.customer_id)
                                 .order_by(OutboxEvent.id)).all()
    assert [(subject, json.loads(data)) for subject, data, _ in written] == [
        (f"L-{n}", {"lot_number": f"L-{n}", "note": "é\n'\"" * (n % 3)}) for n in range(1000)]
    assert {customer_id for *_, customer_id in written} == {None}
