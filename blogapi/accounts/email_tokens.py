"""The one-time tokens mailed to users: minted with 256 random bits, kept as their SHA-256,
spent once, void once expired (and reset tokens once the password changes another way).

Every way a token can be bad (unknown, malformed, spent, expired, of another purpose, or for an
address the account no longer has) is one and the same 400, so a guess learns nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from blogapi.db.account_models import AccountToken
from blogapi.db.models import User
from blogapi.db.single_use import spend_once
from blogapi.extensions import db
from blogapi.security.personal_tokens import digest  # how a secret is stored and looked up
from blogapi.timeutil import utcnow
from blogapi.web.errors import ApiError

BAD_TOKEN = "This link is invalid or has expired; ask for a new one."
# secrets.token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 100


def bad_token() -> ApiError:
    """The one problem for every token that does not work."""
    return ApiError(400, BAD_TOKEN)


def mint(user: User, purpose: str, email: str, lifetime: timedelta) -> str:
    """Stage a new token of `purpose` for `user`, mailed to `email` (caller commits); its
    secret, which is never stored."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=digest(secret),
            email=email,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return secret


def live_token(secret: object, purpose: str, now: datetime | None = None) -> AccountToken:
    """The unspent, unexpired token of `purpose` whose secret this is, or the one 400."""
    if not isinstance(secret, str) or not 0 < len(secret) <= MAX_TOKEN_LENGTH:
        raise bad_token()
    found = db.session.scalar(select(AccountToken).where(AccountToken.token_hash == digest(secret)))
    moment = now or utcnow()
    if (
        found is None
        or found.purpose != purpose
        or found.used_at is not None
        or found.expires_at <= moment
        or not found.user.active
    ):
        raise bad_token()
    return found


def spend(token: AccountToken) -> None:
    """Mark the token used (caller commits); the one 400 when another request spent it first."""
    if not spend_once(db.session, AccountToken, token.id):
        db.session.rollback()
        raise bad_token()


def void_tokens(user: User, purpose: str) -> None:
    """Spend every live token of `purpose` the user holds (caller commits)."""
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


def minted_since(user_id: int, purpose: str, since: datetime) -> bool:
    """Whether a token of `purpose` was made for the user after `since`."""
    query = select(AccountToken.id).where(
        AccountToken.user_id == user_id,
        AccountToken.purpose == purpose,
        AccountToken.created_at > since,
    )
    return db.session.scalar(query.limit(1)) is not None
