"""Webhooks: customers' endpoints, deliveries and their attempts."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shop.accounts.models import Customer
from shop.platform.database import Base, _enum, utcnow

if TYPE_CHECKING:
    from shop.platform.outbox import OutboxEvent


class WebhookEndpoint(Base):
    """Where a customer wants its events POSTed, signed with the endpoint's own secret."""

    __tablename__ = "webhook_endpoint"
    # On SQLite too, a deleted endpoint's id is never given to another (a retried DELETE must not find a new one).
    __table_args__ = (Index("ix_webhook_endpoint_customer_id_id", "customer_id", "id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(Text)  # event types separated by spaces, or "*"
    description: Mapped[str] = mapped_column(String(200), default="")
    # Kept as given (whsec_ + base64): signing needs the key itself, so it cannot be stored hashed.
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the replaced secret signs too, beside the new one, until previous_secret_expires_at.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    failing_since: Mapped[datetime | None]  # the first failed attempt since the last success
    disabled_at: Mapped[datetime | None]
    # Why it was disabled, as its page and delivery log say it (failing for days, or its maker no longer an admin).
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets that sign a delivery sent at `now`: the current one, and the one it replaced while the
        rotation's overlap lasts."""
        if self.previous_secret and self.previous_secret_expires_at and now < self.previous_secret_expires_at:
            return self.secret, self.previous_secret
        return (self.secret,)

    @property
    def event_types(self) -> list[str]:
        return self.events.split()

    def wants(self, event_type: str) -> bool:
        return event_type == "ping" or "*" in self.event_types or event_type in self.event_types


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # an attempt is due at next_attempt_at
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt of the schedule failed


IN_FLIGHT, WAITING = text("claimed_until IS NOT NULL"), text("state = 'pending'")  # the partial indexes' rows


class WebhookDelivery(Base):
    """One event for one endpoint: attempted on the retry schedule until a 2xx, always with the same id."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_delivery_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_event_id", "event_id"),
        # A claim counts the endpoint's deliveries in flight, and an attempt that ends looks for its endpoint's next
        # waiting one: both among few rows (held by a worker; pending), whatever the endpoint's history.
        Index("ix_webhook_delivery_endpoint_id_claimed_until", "endpoint_id", "claimed_until",
              postgresql_where=IN_FLIGHT, sqlite_where=IN_FLIGHT),
        Index("ix_webhook_delivery_endpoint_id_next_attempt_at", "endpoint_id", "next_attempt_at",
              postgresql_where=WAITING, sqlite_where=WAITING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"))
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"),
                                                 default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)  # attempts of the current schedule
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A worker attempting the delivery holds it until then; one that died lets it go when it passes.
    claimed_until: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[OutboxEvent] = relationship(back_populates="deliveries")
    log: Mapped[list[WebhookAttempt]] = relationship(order_by="WebhookAttempt.id", viewonly=True)


class WebhookAttempt(Base):
    """The log: one row per POST of a delivery, with what answered (or why nothing did)."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_endpoint_id_id", "endpoint_id", "id"),
                      Index("ix_webhook_attempt_delivery_id", "delivery_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_delivery.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]  # None: nothing answered (refused, timed out, not allowed)
    duration_ms: Mapped[int]
    error: Mapped[str] = mapped_column(String(500), default="")
    response_excerpt: Mapped[str] = mapped_column(Text, default="")  # the answer's first bytes, bounded

    delivery: Mapped[WebhookDelivery] = relationship()
