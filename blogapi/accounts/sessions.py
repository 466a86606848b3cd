"""A user's sessions: logging in, and the token pairs issued, rotated and revoked.

Each function that changes anything commits before it returns (see accounts/service.py).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt.exceptions import PyJWTError
from sqlalchemy.exc import IntegrityError

from blogapi.accounts.schemas import private_user_schema
from blogapi.accounts.service import find_user
from blogapi.db.models import RevokedToken, User
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.security.jwt import invalid_token_headers
from blogapi.security.passwords import hasher
from blogapi.security.revocation import refresh_token_reused, revocation_for
from blogapi.web.errors import ApiError

BAD_CREDENTIALS = "Invalid username or password."
UNVERIFIED = (
    "This account's email address is not verified yet: follow the link in the verification "
    "message, or ask for a password reset (its link proves the address too)."
)
REUSED = "This refresh token was already used; every session has been revoked."


def issue_token_pair(user: User, *, fresh: bool, version: int | None = None) -> dict[str, Any]:
    """A new access and refresh token for `user` (of token `version`, default the current one)."""
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


def log_in(name: str, password: str) -> dict[str, Any]:
    """A fresh token pair for a username (or email) and password; 401 alike for an unknown user
    and a wrong password, 403 for a deactivated account. An outdated hash is upgraded."""
    user = check_credentials(name, password)
    audit("login", user=user)
    return issue_token_pair(user, fresh=True)


def check_credentials(name: str, password: str) -> User:
    """The user a username (or email) and password name, checked as login checks them: 401
    alike for an unknown user and a wrong password (in the same time), 403 for a deactivated
    account; an outdated hash is upgraded (and committed)."""
    user = find_user(name)
    valid, new_hash = hasher().verify(password, user.password_hash if user else None)
    if not valid or user is None:
        audit("login_failed", username=name)
        raise ApiError(401, BAD_CREDENTIALS)
    if not user.active:
        audit("login_refused_inactive", user=user)
        raise ApiError(403, "This account is deactivated.")
    if current_app.config["REQUIRE_VERIFIED_EMAIL"] and not user.email_verified:
        audit("login_refused_unverified", user=user)
        raise ApiError(403, UNVERIFIED)
    if new_hash:
        user.password_hash = new_hash
        db.session.commit()
    return user


def rotate(user: User, payload: dict[str, Any]) -> dict[str, Any]:
    """Spend the refresh token `payload` describes and issue a new pair; a token spent before
    (even by a request a moment ago) is 401 and revokes every token of the user."""
    db.session.add(revocation_for(payload))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another request rotated this very token a moment ago
        refresh_token_reused(user, payload)
        raise ApiError(401, REUSED, headers=invalid_token_headers(REUSED)) from None
    # The version the spent token was checked against, not the one read after COMMIT: when
    # a duplicate of this token revoked everything meanwhile, the new pair is revoked too.
    return issue_token_pair(user, fresh=False, version=payload["ver"])


def refresh_payload_of(token: str, user: User) -> dict[str, Any]:
    """Decode a refresh token the caller wants revoked; it must be theirs (expired is fine)."""
    payload: dict[str, Any] | None
    try:
        payload = decode_token(token, allow_expired=True)
    except PyJWTError:
        payload = None
    except Exception as exc:  # flask-jwt-extended's own decode errors
        if not type(exc).__module__.startswith("flask_jwt_extended"):
            raise
        payload = None
    if not payload or payload.get("type") != "refresh" or payload.get("sub") != str(user.id):
        raise ApiError(
            422,
            "The refresh token is not a valid refresh token of this user.",
            errors={"refresh_token": ["Not a valid refresh token of this user."]},
        )
    return payload


def log_out(user: User, tokens: list[dict[str, Any]], *, everywhere: bool) -> None:
    """Revoke these decoded tokens, and with `everywhere` every token of the user; commit."""
    if everywhere:
        user.revoke_all_tokens()
    for payload in tokens:
        if db.session.get(RevokedToken, payload["jti"]) is None:
            db.session.add(revocation_for(payload))
    db.session.commit()
    audit("logout", user=user, all_tokens=everywhere, tokens=len(tokens))


def revoke_all_tokens(user: User) -> None:
    """Log a user out everywhere at once (their password is unchanged); commit."""
    user.revoke_all_tokens()
    db.session.commit()
    audit("tokens_revoked", user=user)
