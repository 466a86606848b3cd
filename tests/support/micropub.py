"""Micropub as a client speaks it: personal access tokens made at POST /auth/tokens, as a
writer makes them for an app, and the headers that send them."""

from __future__ import annotations

from typing import Any

import requests
from flask.testing import FlaskClient

from tests.support.accounts import Account, bearer
from tests.support.personal_tokens import expire, make_token

ALL_SCOPES = ("create", "update", "delete", "media")
MICROPUB = "/micropub"
__all__ = [
    "ALL_SCOPES",
    "MICROPUB",
    "bearer",
    "create",
    "expire",
    "live_token",
    "micropub_error",
    "personal_token",
    "source",
]


def personal_token(
    client: FlaskClient, account: Account, scopes: tuple[str, ...] = ALL_SCOPES
) -> tuple[str, int]:
    """A new personal access token of `account`'s (made with its session): secret and id."""
    made = make_token(client, account, list(scopes), name=f"app with {' '.join(scopes)}")
    return made["token"], made["id"]


def live_token(api: str, session: dict[str, str], scopes: tuple[str, ...] = ALL_SCOPES) -> str:
    """A personal access token made on a live server with a session's Authorization header."""
    made = requests.post(
        f"{api}/auth/tokens",
        json={"name": "micropub client", "scopes": list(scopes)},
        headers=session,
        timeout=60,
    )
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def micropub_error(response: Any, status: int, error: str) -> dict[str, Any]:
    """Micropub's error body with this status and code."""
    assert (response.status_code, response.mimetype) == (status, "application/json"), (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    body: dict[str, Any] = response.get_json()
    assert body["error"] == error and body["error_description"]
    return body


def create(client: FlaskClient, headers: dict[str, str], **properties: Any) -> str:
    """A JSON create that succeeds: the post's URL."""
    body = {"type": ["h-entry"], "properties": properties}
    response = client.post(MICROPUB, json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.headers["Location"])


def source(client: FlaskClient, headers: dict[str, str], url: str) -> dict[str, Any]:
    """q=source's properties."""
    response = client.get(MICROPUB, query_string={"q": "source", "url": url}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    properties: dict[str, Any] = response.get_json()["properties"]
    return properties
