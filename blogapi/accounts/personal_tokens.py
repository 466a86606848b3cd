"""Personal access tokens: make one (shown once), list a user's, revoke one (API and CLI)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select

from blogapi.accounts.mailing import notice
from blogapi.db.models import PersonalToken, User
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.security.personal_tokens import SCOPES, digest, new_secret
from blogapi.timeutil import utcnow
from blogapi.web.errors import ApiError

MAX_TOKENS_PER_USER = 50  # a list a writer can still read; each app needs one


def live_tokens(user: User) -> list[PersonalToken]:
    """The user's tokens that still work or have merely expired, newest first."""
    query = (
        select(PersonalToken)
        .where(PersonalToken.user_id == user.id)
        .where(PersonalToken.token_version == user.token_version)
        .order_by(PersonalToken.id.desc())
    )
    return list(db.session.scalars(query))


def ordered_scopes(scopes: Sequence[str]) -> str:
    """Scopes in the contract's order, each once, as stored."""
    return " ".join(scope for scope in SCOPES if scope in scopes)


def create_token(
    user: User,
    name: str,
    scopes: Sequence[str],
    expires_in_days: int | None,
    *,
    client_id: str | None = None,
    commit: bool = True,
) -> tuple[PersonalToken, str]:
    """Make a token for `user` (issued to an IndieAuth `client_id`, if any) and commit (unless
    a caller commits it with more, then calls token_created); the row and the secret (never
    stored) to show once."""
    if len(live_tokens(user)) >= MAX_TOKENS_PER_USER:
        raise ApiError(
            409, f"You have {MAX_TOKENS_PER_USER} personal access tokens; revoke one first."
        )
    secret = new_secret()
    now = utcnow()
    token = PersonalToken(
        user_id=user.id,
        name=name,
        token_hash=digest(secret),
        scopes=ordered_scopes(scopes),
        token_version=user.token_version,
        created_at=now,
        expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
        client_id=client_id,
    )
    db.session.add(token)
    notice(user, "token_created", token_name=name, scopes=token.scopes, expires_at=expiry(token))
    if not commit:
        db.session.flush()  # its id, for the caller's rows
        return token, secret
    db.session.commit()
    token_created(user, token)
    return token, secret


def expiry(token: PersonalToken) -> str | None:
    """When the token stops working, as the notice says it (None: never)."""
    return None if token.expires_at is None else f"{token.expires_at:%Y-%m-%d %H:%M} UTC"


def token_created(user: User, token: PersonalToken) -> None:
    """The audit line of `user`'s committed new token (with the IndieAuth client it went to)."""
    client = {"client_id": token.client_id} if token.client_id else {}
    audit("personal_token_created", user=user, token_id=token.id, scopes=token.scopes, **client)


def token_of(user: User, token_id: int) -> PersonalToken | None:
    """One of the user's live tokens by id (None for another user's, or a revoked one)."""
    token = db.session.get(PersonalToken, token_id)
    if token is None or token.user_id != user.id or token.token_version != user.token_version:
        return None
    return token


def find_token(token_id: int) -> PersonalToken | None:
    """Any token by id (admins' CLI)."""
    return db.session.get(PersonalToken, token_id)


def revoke_token(token: PersonalToken, *, by: str | None = None) -> None:
    """Revoke one token now (its row goes: nothing can use it again) and commit."""
    user, token_id, name = token.user, token.id, token.name
    db.session.delete(token)
    db.session.commit()
    extra: dict[str, Any] = {"by": by} if by else {}
    audit("personal_token_revoked", user=user, token_id=token_id, name=name, **extra)


def purge_dead_tokens() -> int:
    """Delete tokens that can never work again (expired, or revoked with every token of their
    user) and commit; how many went."""
    users_version = select(User.token_version).where(User.id == PersonalToken.user_id)
    purged = cast(
        CursorResult[Any],
        db.session.execute(
            delete(PersonalToken).where(
                or_(
                    PersonalToken.expires_at < utcnow(),
                    PersonalToken.token_version != users_version.scalar_subquery(),
                )
            )
        ),
    )
    db.session.commit()
    return purged.rowcount
