"""Issuing and revoking token pairs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy.exc import IntegrityError

from blogapi.audit import audit
from blogapi.extensions import db
from blogapi.models import RevokedToken, User

log = logging.getLogger("blogapi.tokens")


def issue_token_pair(user: User, *, fresh: bool, version: int | None = None) -> dict[str, Any]:
    """A new access and refresh token for `user` (of token `version`, default the current one)."""
    from blogapi.schemas.users import private_user_schema

    ver = user.token_version if version is None else version
    claims = {"role": user.role, "ver": ver}
    access = create_access_token(identity=str(user.id), fresh=fresh, additional_claims=claims)
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims)
    lifetime = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "user": private_user_schema.dump(user),
    }


def revocation_for(payload: dict[str, Any]) -> RevokedToken:
    """The revocation record for a decoded token."""
    return RevokedToken(
        jti=payload["jti"],
        user_id=int(payload["sub"]),
        token_type=payload["type"],
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
    )


def revoke_once(payload: dict[str, Any]) -> bool:
    """Record a token as revoked; False when it already was (another request got there first)."""
    try:
        with db.session.begin_nested():
            db.session.add(revocation_for(payload))
    except IntegrityError:
        return False
    return True


def refresh_token_reused(user: User, payload: dict[str, Any]) -> None:
    """A revoked refresh token came back: assume theft and revoke everything the user holds."""
    user.revoke_all_tokens()
    db.session.commit()
    audit("refresh_token_reuse", user=user, jti=payload["jti"])
