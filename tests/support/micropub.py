"""Micropub as a client speaks it: personal access tokens to send, and requests to /micropub.

Tokens are written straight into the database here until POST /api/v1/auth/tokens is on this
branch; then `personal_token` makes them through that endpoint, as a user would.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from blogapi.db.models import PersonalToken, User
from blogapi.extensions import db
from blogapi.security.personal_tokens import digest, new_secret
from blogapi.timeutil import utcnow

ALL_SCOPES = ("create", "update", "delete", "media")


def insert_token(
    connection: sa.Connection,
    username: str,
    scopes: tuple[str, ...],
    expires_at: datetime | None = None,
) -> str:
    """A new token of `username`'s, written into the database behind `connection`."""
    found = connection.execute(
        sa.select(User.id, User.token_version).where(User.username == username)
    ).one()
    secret = new_secret()
    connection.execute(
        sa.insert(PersonalToken).values(
            user_id=found.id,
            name=f"test {' '.join(scopes)}",
            token_hash=digest(secret),
            scopes=" ".join(scopes),
            token_version=found.token_version,
            created_at=utcnow(),
            expires_at=expires_at,
        )
    )
    return secret


def personal_token(
    app: Flask,
    username: str,
    scopes: tuple[str, ...] = ALL_SCOPES,
    expires_in: timedelta | None = None,
) -> str:
    """A personal access token of `username` on the app under test."""
    with app.app_context():
        expires = None if expires_in is None else utcnow() + expires_in
        secret = insert_token(db.session.connection(), username, scopes, expires)
        db.session.commit()
    return secret


def live_token(database_url: str, username: str, scopes: tuple[str, ...] = ALL_SCOPES) -> str:
    """A personal access token of `username` on a live server's database."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            return insert_token(connection, username, scopes)
    finally:
        engine.dispose()


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
