"""The mail outbox (blogapi/mail): one row per message, staged in the transaction of the change
that causes it and sent by the worker, kept afterwards (without its context) as the log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blogapi.db.models import Model
from blogapi.db.types import UTCDateTime
from blogapi.timeutil import utcnow

MAIL_STATUSES = ("pending", "sent", "skipped", "failed")


class OutgoingMail(Model):
    """A message: pending until the SMTP server accepts it (sent), a preparer drops it
    (skipped) or the retries run out or the server refuses it for good (failed). A worker
    holds `leased_until` while it sends, so two workers never send one message."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_status_due", "status", "due_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template: Mapped[str] = mapped_column(String(60))
    to_address: Mapped[str] = mapped_column(String(320))
    # SET NULL: an account's removal must neither fail on its mail nor erase the log of it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # JSON; may hold a one-time token, so it is wiped once the message is done with.
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set at the first attempt, when the message is composed (and kept for every retry).
    subject: Mapped[str | None] = mapped_column(String(300), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The X-Request-Id of the request that caused it, for the worker's log lines.
    request_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<OutgoingMail {self.id} {self.template} {self.status}>"
