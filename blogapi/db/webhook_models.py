"""Webhook tables: the subscriptions, the outbox of events, one delivery per webhook and event,
and the log of every attempt (blogapi/webhooks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blogapi.db.models import Model
from blogapi.db.types import UTCDateTime
from blogapi.timeutil import utcnow

POST_EVENTS = (
    "post.published",
    "post.updated",
    "post.unpublished",
    "post.deleted",
    "post.restored",
)
SUBSCRIBABLE = (*POST_EVENTS, "media.created")  # every webhook gets pings besides
EVENT_TYPES = (*SUBSCRIBABLE, "ping")


class Webhook(Model):
    """A URL that hears about the events it subscribes to, signed with its own secret."""

    __tablename__ = "webhooks"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[str] = mapped_column(String(500))  # space-separated event types
    description: Mapped[str] = mapped_column(String(500), default="")
    # The signing secret, encrypted with a key derived from SECRET_KEY
    # (security/webhook_secrets.py).
    secret: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Since when every attempt has failed (null after a success); too long turns it off.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)

    @property
    def event_list(self) -> list[str]:
        """The subscribed event types."""
        return self.events.split()

    def __repr__(self) -> str:
        return f"<Webhook {self.id} {self.url!r}>"


class WebhookEvent(Model):
    """The outbox: an event, written in the transaction of the change that caused it, and fanned
    out to the webhooks that want it once it is due (a scheduled post's go-live is due at its
    time). `payload` is built once at fan-out, so every retry sends the same body; an event
    fanned out with no payload was voided (a schedule changed or undone before its time)."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index(
            "ix_webhook_events_due",
            "due_at",
            "id",
            sqlite_where=text("dispatched_at IS NULL"),
            postgresql_where=text("dispatched_at IS NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(40), unique=True)  # webhook-id: msg_…
    type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # post or media id
    # ping: the one webhook it is for (null: every subscriber).
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The X-Request-Id of the request that caused it, for the worker's log lines.
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)

    def __repr__(self) -> str:
        return f"<WebhookEvent {self.uid} {self.type}>"


class WebhookDelivery(Model):
    """One event on its way to one webhook: pending until a 2xx, failed after the last retry
    (or when the webhook is turned off), with a lease so that one worker sends it at a time."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_webhook_event"),
        Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # True once a queue job was made for next_attempt_at; the sweeper re-enqueues lost ones.
    enqueued: Mapped[bool] = mapped_column(Boolean, default=False)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webhook: Mapped[Webhook] = relationship(lazy="raise_on_sql")
    event: Mapped[WebhookEvent] = relationship(lazy="raise_on_sql")


class WebhookAttempt(Model):
    """The log: one row per attempt (what the API calls a delivery), kept 30 days."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_webhook_id_id", "webhook_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_uid: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Null while the attempt runs; a worker that died mid-attempt leaves it null, and the next
    # claim of the delivery says so in `error`.
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
