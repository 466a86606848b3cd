"""Revoking tokens: one at a time by jti, or all of a user's at once when theft is suspected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from blogapi.db.models import RevokedToken, User
from blogapi.extensions import db
from blogapi.security.audit import audit


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
