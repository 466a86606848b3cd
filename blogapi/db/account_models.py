"""One-time account tokens sent by email: password resets and address verifications
(blogapi/accounts/email_tokens.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blogapi.db.models import Model, User
from blogapi.db.types import UTCDateTime
from blogapi.timeutil import utcnow

PURPOSES = ("password_reset", "verify_email")


class AccountToken(Model):
    """A token mailed to a user: only its SHA-256 is kept; it works once, until it expires."""

    __tablename__ = "account_tokens"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # one of PURPOSES
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address the message went to: a verification proves this one, and no other.
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<AccountToken {self.id} {self.purpose}>"
