"""E-mail through the outbox: `send()` renders a message and writes it as a row in the causing transaction.

For every part of the shop (orders, recalls, webhooks, companies' invitations and password resets):

    from shop.platform import mail
    mail.send(customer.email, "Your order has shipped", "order_shipped", order=order)

renders `email/order_shipped.txt` (the plain-text part) and `email/order_shipped.html` (its HTML
alternative) with `context`, plus `absolute_url(endpoint, **values)` for links, which are absolute from
PUBLIC_BASE_URL (never the request's Host); `attachments` (a PDF) are kept with the message as they were made.
The message is an `outbox_mail` row written with the change that causes it, so a change that rolls back sends
nothing and one that commits loses nothing: after COMMIT its id goes to a worker (shop.platform.mail_worker), and a
periodic sweep hands over whatever the queue missed.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from blinker import Namespace
from flask import current_app
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.platform.database import Base, utcnow
from shop.platform.extensions import db
from shop.platform.outbox import OutboxEvent, after_commit
from shop.platform.queue import hand_over

# Sent with a message's row id, in the transaction that marks it sent (the SMTP server took it).
sent = Namespace().signal("mail-sent")
_cause: ContextVar[int | None] = ContextVar("mail_cause", default=None)


class OutboxMail(Base):
    """A rendered message waiting to be sent, sent, or given up on after the retry schedule (dead-lettered)."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        # The sweep's lookup: messages still to send, by when they are due.
        Index("ix_outbox_mail_due", "next_attempt_at", postgresql_where=text("sent_at IS NULL AND failed_at IS NULL"),
              sqlite_where=text("sent_at IS NULL AND failed_at IS NULL")),
        # The staff page: messages given up on, newest first.
        Index("ix_outbox_mail_failed", "id", postgresql_where=text("failed_at IS NOT NULL"),
              sqlite_where=text("failed_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The outbox event whose fan-out wrote the message, if one did.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_event.id", ondelete="SET NULL"), index=True)
    recipients: Mapped[str] = mapped_column(Text)  # JSON: a list of addresses
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker sending the message holds it until then; one that died lets it go when it passes.
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]  # the SMTP server accepted it
    failed_at: Mapped[datetime | None]  # every attempt of the schedule failed
    last_error: Mapped[str | None] = mapped_column(Text)  # retry.describe's line: never an address or the body

    event: Mapped[OutboxEvent | None] = relationship(back_populates="mails")
    attachments: Mapped[list[OutboxMailAttachment]] = relationship(order_by="OutboxMailAttachment.id",
                                                                    cascade="all, delete-orphan")

    @property
    def to(self) -> list[str]:
        return json.loads(self.recipients)


class OutboxMailAttachment(Base):
    """A file sent with a message (an order acknowledgement's PDF), stored as it was when the message was written:
    a retry days later sends the same document."""

    __tablename__ = "outbox_mail_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("outbox_mail.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class Attachment:
    """A file to send with a message."""

    filename: str
    content_type: str
    content: bytes


def send(to: str | list[str], subject: str, template: str, *, attachments: Iterable[Attachment] = (),
         **context) -> int:
    """Render `email/<template>.html` and `.txt` for `to` and write the message, with its `attachments`, into the
    current transaction; a worker sends it once the transaction commits. The message's row id."""
    recipients = [to] if isinstance(to, str) else list(to)
    text_part, html_part = (_render(f"email/{template}.{kind}", subject, context) for kind in ("txt", "html"))
    row = OutboxMail(event_id=_cause.get(), recipients=json.dumps(recipients), subject=subject, body_text=text_part,
                     body_html=html_part, attempts=0, next_attempt_at=utcnow(),
                     attachments=[OutboxMailAttachment(filename=a.filename, content_type=a.content_type,
                                                       content=a.content) for a in attachments])
    db.session.add(row)
    db.session.flush()
    mail_id = row.id
    after_commit(lambda: hand_over("send_mail", [(mail_id,)]))
    return mail_id


@contextmanager
def caused_by(event_row_id: int) -> Iterator[None]:
    """Link the messages written meanwhile to the outbox event whose fan-out writes them."""
    token = _cause.set(event_row_id)
    try:
        yield
    finally:
        _cause.reset(token)


def _render(name: str, subject: str, context: dict) -> str:
    """A template rendered with only what it is given: no request, so none of the pages' context processors
    (HTML autoescaped, text not, as Flask's environment chooses by the file's extension)."""
    values = {"config": current_app.config, "shop_name": current_app.config["SHOP_NAME"], "subject": subject,
              "absolute_url": absolute_url, **context}
    return current_app.jinja_env.get_template(name).render(values)


def absolute_url(endpoint: str, **values) -> str:
    """The public address of a page (PUBLIC_BASE_URL and the route), for links in e-mail."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
