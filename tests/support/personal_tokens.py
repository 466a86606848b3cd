"""Personal access tokens as a writer makes them for an app: through POST /auth/tokens."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from blogapi.db.models import PersonalToken
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.accounts import Account

TOKENS = "/api/v1/auth/tokens"


def make_token(
    client: FlaskClient,
    account: Account,
    scopes: list[str],
    name: str = "iA Writer",
    **fields: Any,
) -> dict[str, Any]:
    """POST /auth/tokens as `account`; the token as the reply shows it, secret included."""
    response = client.post(
        TOKENS, json={"name": name, "scopes": scopes, **fields}, headers=account.headers
    )
    assert response.status_code == 201, response.get_json()
    made: dict[str, Any] = response.get_json()
    return made


def as_app(
    client: FlaskClient, account: Account, scopes: list[str], **fields: Any
) -> tuple[Account, dict[str, Any]]:
    """The account as an app holding a new personal access token sees it (its `headers` send
    the token), and the token."""
    token = make_token(client, account, scopes, **fields)
    return dataclasses.replace(account, access_token=token["token"], refresh_token=""), token


def expire(app: Flask, token_id: int) -> None:
    """Let a token's time run out (as if its expires_in_days had passed)."""
    with app.app_context():
        expired = utcnow() - timedelta(seconds=1)
        db.session.execute(
            update(PersonalToken).where(PersonalToken.id == token_id).values(expires_at=expired)
        )
        db.session.commit()
