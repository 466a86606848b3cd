"""Helpers the security stories share: reading and forging tokens, checking problems."""

from __future__ import annotations

import base64
from typing import Any

import jwt as pyjwt
import orjson
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from blogapi.extensions import db

ME = "/api/v1/auth/me"
PROBLEM = "application/problem+json"


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes it."""
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


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


def get_me(client: FlaskClient, token: str) -> Any:
    """GET /auth/me with a bearer token."""
    return client.get(ME, headers=bearer(token))


def assert_problem(response: Any, status: int | None = None) -> dict[str, Any]:
    """An RFC 9457 problem whose status matches the response's; returns its body."""
    assert response.mimetype == PROBLEM, (response.status_code, response.data[:300])
    body = orjson.loads(response.data)
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    if status is not None:
        assert response.status_code == status, body
    return body


def assert_refused(response: Any) -> None:
    """A token the API will not accept: 401 problem with RFC 6750's challenge."""
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def table_rows(app: Flask, *tables: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the named tables, in a stable order, to compare before and after."""
    with app.app_context():
        rows = {
            table: [tuple(row) for row in db.session.execute(text(f"SELECT * FROM {table}"))]
            for table in tables
        }
        db.session.remove()
    return {table: sorted(found, key=repr) for table, found in rows.items()}
