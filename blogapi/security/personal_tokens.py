"""Personal access tokens on requests: recognise one, check it, and say what it may do.

A token is `blogapi_pat_` and 256 random bits; the database keeps its SHA-256 only (the
secret has the full entropy, so a slow hash would add nothing). It holds while unexpired, its
user active, and its user's token_version the one it was made under. What it may do is its
scopes within its user's current role: the guards check the scope, the features the role.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, request
from sqlalchemy import bindparam, or_, select, update

from blogapi.db.models import PersonalToken, User
from blogapi.extensions import db
from blogapi.observability.http_requests import note_user
from blogapi.timeutil import utcnow

PREFIX = "blogapi_pat_"
SCOPES = ("create", "update", "delete", "media", "draft")
# last_used_at is written at most this often per token: reads would otherwise each be a write.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class TokenRefused(Exception):
    """The personal access token is unknown, revoked, expired, or its user deactivated."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def new_secret() -> str:
    """A fresh token, prefix included (43 URL-safe characters of randomness)."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """How a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def is_personal_token(token: str) -> bool:
    """Whether a bearer token is one of ours (not a JWT)."""
    return token.startswith(PREFIX)


def bearer_in_header() -> str | None:
    """The token of an `Authorization: Bearer …` header, if the request has one."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def personal_token_in_header() -> str | None:
    """The personal access token of the Authorization header, or None (none, or a JWT)."""
    token = bearer_in_header()
    return token if token is not None and is_personal_token(token) else None


# Built once, like the JWT lookup: it runs on every request a token makes.
TOKEN_BY_HASH = select(PersonalToken).where(PersonalToken.token_hash == bindparam("token_hash"))


def accept(token: str) -> PersonalToken:
    """The live personal access token `token` is (user loaded with it), or TokenRefused; its
    use is recorded."""
    found = live_token(token)
    note_use(found, utcnow())
    return found


def token_by_secret(token: str) -> PersonalToken | None:
    """The stored token whose secret `token` is (live or not), with its user."""
    return db.session.scalars(TOKEN_BY_HASH, {"token_hash": digest(token)}).first()


def live_token(token: str) -> PersonalToken:
    """The live personal access token `token` is (user loaded with it), or TokenRefused."""
    found = token_by_secret(token)
    now = utcnow()
    if found is None or found.token_version != found.user.token_version:
        raise TokenRefused("The token is unknown or has been revoked.")
    if found.expires_at is not None and found.expires_at <= now:
        raise TokenRefused("The token has expired.")
    if not found.user.active:
        raise TokenRefused("The token's user is deactivated.")
    return found


def note_use(token: PersonalToken, now: datetime) -> None:
    """Record when the token was last used, writing only when the record is a minute old (the
    WHERE keeps two instances' concurrent stamps to one row write each at most)."""
    stale = now - LAST_USED_GRANULARITY
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    db.session.execute(
        update(PersonalToken)
        .where(PersonalToken.id == token.id)
        .where(or_(PersonalToken.last_used_at.is_(None), PersonalToken.last_used_at <= stale))
        .values(last_used_at=now)
    )
    # Committed now, alone: the request may only read, and its own writes commit later.
    db.session.commit()


@dataclass(frozen=True)
class TokenCaller:
    """Who a personal access token speaks for in this request, and with which scopes."""

    user: User
    scopes: frozenset[str]
    token_id: int


def use_as_caller(token: PersonalToken) -> TokenCaller:
    """Make `token`'s user the caller of this request (guards.signed_in() returns them)."""
    token_caller = TokenCaller(token.user, token.scope_set, token.id)
    g.token_caller = token_caller
    note_user(token.user.id)
    return token_caller


def token_caller() -> TokenCaller | None:
    """The personal access token this request was accepted with, if any."""
    found: TokenCaller | None = g.get("token_caller")
    return found


def token_scopes() -> frozenset[str] | None:
    """The scopes of the request's personal access token; None for a session's JWT (whose
    powers are its role's) or an anonymous caller."""
    found = token_caller()
    return None if found is None else found.scopes


def drafts_only() -> bool:
    """Whether the caller's token has the `draft` scope: what it writes stays a draft."""
    scopes = token_scopes()
    return scopes is not None and "draft" in scopes
