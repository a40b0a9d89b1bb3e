"""The transactional outbox: an event is a row written in the transaction of the change that causes it.

An area announces what happened as a plain value (`Event`) to the unit of work (`announce`); the outbox writes
it in that transaction as it commits. (A new order's event rides in the order's own statement: `new_event`.)

Nothing is announced that did not commit: the row goes with the change, and the event is handed to the
queue only after COMMIT (`after_commit`). Nothing that committed is lost: should the process die between
COMMIT and the hand-over, or a worker die holding the task, the periodic `sweep` hands over again every
event left waiting for more than OUTBOX_SWEEP_AFTER_SECONDS. A worker fans an event out to each channel once and
on its own: `dispatch` marks the webhooks' fan-out (`webhooks_fanned_out_at`) in the transaction that writes the
deliveries, and the e-mail's (`mail_fanned_out_at`) in the one that writes the messages, so a channel that fails leaves
the other done; a second worker given the same event finds both marked and does nothing.
"""
from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, event, insert, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shop.platform.database import Base, utcnow
from shop.platform.extensions import db
from shop.platform.queue import hand_over

if TYPE_CHECKING:
    from shop.accounts.models import Customer
    from shop.events.models import WebhookDelivery
    from shop.platform.mail import OutboxMail

# Events a channel still waits for (the sweep's condition, and its index's: the same text, so the index serves it).
WAITING_FOR_FAN_OUT = text("failed_at IS NULL AND (webhooks_fanned_out_at IS NULL OR mail_fanned_out_at IS NULL)")


class OutboxEvent(Base):
    """A business event, written in the transaction of the change that caused it (the outbox).

    `webhooks_fanned_out_at` stays empty until a worker has fanned the event out to its webhook deliveries,
    `mail_fanned_out_at` until it has written its e-mail: the periodic sweep hands over every event that
    committed and has either still empty after a few seconds, so that a process dying right after COMMIT loses
    nothing. A fan-out that fails is counted; after OUTBOX_FAN_OUT_ATTEMPTS the event is given up on
    (`failed_at`) and shown to staff.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (
        # The sweep's lookup: only events not yet handed over, oldest first.
        Index("ix_outbox_event_waiting", "created_at", postgresql_where=WAITING_FOR_FAN_OUT,
              sqlite_where=WAITING_FOR_FAN_OUT),
        # The staff page: newest first, by customer or by type.
        Index("ix_outbox_event_customer_id_id", "customer_id", "id"),
        Index("ix_outbox_event_type_id", "type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Standard Webhooks message id (`webhook-id`, the body's `id`): the same on every attempt.
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    subject: Mapped[str] = mapped_column(String(60), default="")  # an order or lot number, for people
    data: Mapped[str] = mapped_column(Text)  # JSON: the event's `data` as it was at the time of the event
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    webhooks_fanned_out_at: Mapped[datetime | None]  # fanned out to its webhook deliveries
    mail_fanned_out_at: Mapped[datetime | None]  # fanned out to its e-mail
    # Only a server default: the order's one-statement write (ordering.pg_write) leaves it to the database.
    fan_out_failures: Mapped[int] = mapped_column(server_default="0")
    failed_at: Mapped[datetime | None]  # its fan-out failed OUTBOX_FAN_OUT_ATTEMPTS times: given up on
    last_error: Mapped[str | None] = mapped_column(String(200))  # retry.describe's line of the last failure

    customer: Mapped[Customer | None] = relationship()
    deliveries: Mapped[list[WebhookDelivery]] = relationship(back_populates="event", order_by="WebhookDelivery.id")
    mails: Mapped[list[OutboxMail]] = relationship(back_populates="event", order_by="OutboxMail.id")

    @property
    def waiting(self) -> bool:
        """Not yet fanned out to every channel, and not given up on."""
        return self.failed_at is None and (self.webhooks_fanned_out_at is None or self.mail_fanned_out_at is None)

log = logging.getLogger(__name__)
_AFTER_COMMIT = "shop.after_commit"
_WAITING = "shop.outbox_waiting"
_ANNOUNCED = "shop.announced"
_INSERT = insert(OutboxEvent.__table__).returning(OutboxEvent.__table__.c.id)


def new_event_id() -> str:
    """A unique message id, as Standard Webhooks' `webhook-id` (and the body's `id`)."""
    return "msg_" + secrets.token_urlsafe(18)


def new_event(event_type: str, data: Mapping[str, object], *, customer_id: int | None, subject: str = "",
              handed_over: bool = False) -> dict[str, object]:
    """An event's outbox row (every column but its id), for the caller to write in the current transaction;
    after COMMIT its event goes to a worker (unless `handed_over`: the caller fans it out itself)."""
    now = utcnow()
    row = {"event_id": new_event_id(), "type": event_type, "customer_id": customer_id, "subject": subject[:60],
           "data": json.dumps(data, separators=(",", ":")), "created_at": now,
           "webhooks_fanned_out_at": now if handed_over else None, "mail_fanned_out_at": now if handed_over else None}
    if not handed_over:
        db.session.connection()  # the transaction the row is for: begun now if the event is its first write
        waiting = db.session.info.setdefault(_WAITING, [])
        if not waiting:
            after_commit(lambda: hand_over("dispatch_event", [(i,) for i in waiting]))
        waiting.append(row["event_id"])
    return row


def record(event_type: str, data: Mapping[str, object], *, customer_id: int | None, subject: str = "",
           handed_over: bool = False) -> tuple[int, str]:
    """Write an event into the current transaction (one INSERT of `new_event`'s row); its row id and event id."""
    row = new_event(event_type, data, customer_id=customer_id, subject=subject, handed_over=handed_over)
    return db.session.connection().execute(_INSERT, row).scalar_one(), row["event_id"]


@dataclass(frozen=True, slots=True)
class Event:
    """What happened, as an area announces it: the type, the data (or a function that reads it as the transaction
    commits, so that it shows the transaction's last change), whose it is, and what it is about (for people)."""

    type: str
    data: Mapping[str, object] | Callable[[], Mapping[str, object]]
    customer_id: int | None
    subject: str = ""


def announce(event: Event) -> None:
    """Collect `event` with the current unit of work: the outbox writes it in the transaction as it commits, and
    a worker gets it after COMMIT. A rollback forgets it, and so does the rollback of a SAVEPOINT it was
    announced in."""
    db.session.connection()  # the transaction it belongs to: begun now if it is the first thing that happens
    db.session.info.setdefault(_ANNOUNCED, []).append((db.session().get_nested_transaction(), event))


def after_commit(callback: Callable[[], None]) -> None:
    """Call `callback` once the current transaction commits; never if it rolls back. Outside a transaction,
    at once."""
    if not db.session().in_transaction():
        callback()
        return
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def write_announced() -> None:
    """Write the events announced so far into the current transaction now, their data as it is now, as COMMIT
    would later: for a transaction that changes one thing several times and wants each event to show its own
    step (the demo's history: an order placed, confirmed and shipped in one transaction)."""
    _write_announced(db.session())


@event.listens_for(Session, "before_commit")
def _write_announced(session: Session) -> None:
    """The events of the unit of work, written in it as it commits (data read now: the transaction's last state),
    in one statement however many there are (a release serving a thousand backorders announces a thousand)."""
    rows = [new_event(announced.type, announced.data() if callable(announced.data) else announced.data,
                      customer_id=announced.customer_id, subject=announced.subject)
            for _, announced in session.info.pop(_ANNOUNCED, [])]
    if rows:  # RETURNING makes SQLAlchemy batch the rows into one INSERT (insertmanyvalues), not one each
        session.connection().execute(_INSERT, rows)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    session.info.pop(_WAITING, None)
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:  # noqa: BLE001 - the commit stands whatever a hand-over does
            log.exception("after-commit work failed; the sweeps will catch up")


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    # Only when the whole transaction rolls back: a SAVEPOINT rolled back inside it (after_rollback fires for
    # those too) leaves the outer transaction's events to commit with it. An event written inside the savepoint
    # went with it; its hand-over then finds no row and does nothing.
    if previous_transaction.parent is None:
        for key in (_WAITING, _AFTER_COMMIT, _ANNOUNCED):
            session.info.pop(key, None)
    elif previous_transaction.nested:  # the events announced in that savepoint went with it
        session.info[_ANNOUNCED] = [(savepoint, e) for savepoint, e in session.info.get(_ANNOUNCED, [])
                                    if savepoint is not previous_transaction]
