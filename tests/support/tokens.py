"""Tokens as an attacker handles them: read without checking, edited, forged, sent to /me."""

from __future__ import annotations

import base64
from typing import Any

import jwt as pyjwt
import orjson
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import bearer
from tests.support.problems import assert_problem

ME = "/api/v1/auth/me"


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes tokens and the API its cursors."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    """A token's claims, read without checking anything."""
    return pyjwt.decode(token, options={"verify_signature": False})


def header_of(token: str) -> dict[str, Any]:
    """A token's JOSE header, read without checking anything."""
    return pyjwt.get_unverified_header(token)


def with_header(token: str, **changes: Any) -> str:
    """The token with its header edited (None removes a member) and its signature kept."""
    fields = {**header_of(token), **changes}
    fields = {name: value for name, value in fields.items() if value is not None}
    _header, payload, signature = token.split(".")
    return f"{b64url(orjson.dumps(fields))}.{payload}.{signature}"


def forge(
    app: Flask,
    token: str,
    *,
    algorithm: str = "HS256",
    key: Any = None,
    headers: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **changes: Any,
) -> str:
    """Re-sign a real token's claims with some changed, by default with the server's own secret."""
    payload = {**claims_of(token), **changes}
    for claim in drop:
        payload.pop(claim, None)
    secret = app.config["JWT_SECRET_KEY"] if key is None else key
    return pyjwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def get_me(client: FlaskClient, token: str) -> Any:
    """GET /auth/me with a bearer token."""
    return client.get(ME, headers=bearer(token))


def assert_refused(response: Any) -> None:
    """A token the API will not accept: a 401 problem with RFC 6750's challenge."""
    assert_problem(response, 401)
