"""Revoking tokens: one at a time by jti, or all of a user's at once when theft is suspected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select

from blogapi.db.models import RevokedToken, User
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.timeutil import utcnow


def revocation_for(payload: dict[str, Any]) -> RevokedToken:
    """The revocation record for a decoded token."""
    return RevokedToken(
        jti=payload["jti"],
        user_id=int(payload["sub"]),
        token_type=payload["type"],
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
    )


def refresh_token_reused(user: User, payload: dict[str, Any]) -> None:
    """A revoked refresh token came back: assume theft and revoke everything the user holds."""
    user.revoke_all_tokens()
    db.session.commit()
    audit("refresh_token_reuse", user=user, jti=payload["jti"])


def purge_expired_revocations(leeway: timedelta | float) -> tuple[int, int]:
    """Delete the records of revoked tokens that have expired (past `leeway`, the clock skew a
    token is still accepted for) and commit; how many went and how many are kept."""
    if not isinstance(leeway, timedelta):
        leeway = timedelta(seconds=leeway)
    cutoff = utcnow() - leeway
    # A DELETE's result is a CursorResult (it has rowcount); Session.execute is typed Result.
    purged = cast(
        CursorResult[Any],
        db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < cutoff)),
    )
    db.session.commit()
    remaining = db.session.scalar(select(func.count()).select_from(RevokedToken)) or 0
    audit("revocations_purged", purged=purged.rowcount)
    return purged.rowcount, remaining
