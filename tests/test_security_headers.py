"""Stories about response headers: no sniffing, no framing, no referrers, no stored secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Response
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, Account, sign_up
from tests.support.apps import make_app

CALLS: dict[str, Callable[[FlaskClient, Account], Any]] = {
    "200 health": lambda c, a: c.get("/api/v1/health"),
    "200 profile": lambda c, a: c.get(f"/api/v1/users/{a.username}"),
    "204 logout": lambda c, a: c.post("/api/v1/auth/logout", headers=a.headers),
    "401 no token": lambda c, a: c.get("/api/v1/auth/me"),
    "401 bad login": lambda c, a: c.post(
        "/api/v1/auth/login", json={"username": a.username, "password": "nope"}
    ),
    "403 not admin": lambda c, a: c.get("/api/v1/users", headers=a.headers),
    "404 no route": lambda c, a: c.get("/api/v1/nowhere"),
    "404 no jwks": lambda c, a: c.get("/.well-known/jwks.json"),
    "405 method": lambda c, a: c.delete("/api/v1/auth/me", headers=a.headers),
    "413 too big": lambda c, a: c.post(
        "/api/v1/auth/register", data=b"x" * 2_000_000, content_type="application/json"
    ),
    "415 not json": lambda c, a: c.post("/api/v1/auth/register", data="a=b"),
    "422 invalid": lambda c, a: c.post("/api/v1/auth/register", json={"username": 1}),
    "500 crash": lambda c, a: c.get("/crash"),
    "options": lambda c, a: c.options("/api/v1/auth/login"),
}


@pytest.fixture
def production_like() -> tuple[FlaskClient, Account]:
    """An app that handles errors as production does, with a route that fails."""
    app = make_app(testing=False)

    @app.route("/crash")
    def crash() -> Response:
        raise RuntimeError("boom")

    client = app.test_client()
    return client, sign_up(client, app, "alice")


@pytest.mark.parametrize("call", CALLS, ids=list(CALLS))
def test_every_response_refuses_sniffing_framing_and_referrers(production_like, call):
    """Successes, errors, crashes and preflights all carry the same protective headers."""
    client, account = production_like
    response = CALLS[call](client, account)
    assert call.startswith(str(response.status_code)) or call == "options"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # HSTS_SECONDS is 0


def test_responses_with_tokens_or_emails_are_never_stored(client, make_account):
    """Every response that carries a token or an email says Cache-Control: no-store."""
    admin = make_account("admin")
    alice = make_account("author")
    new_password = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    register = {"username": "bob", "email": "bob@example.com", "password": PASSWORD}
    responses = {
        "register": client.post("/api/v1/auth/register", json=register),
        "login": client.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD}),
        "refresh": client.post("/api/v1/auth/refresh", headers=alice.refresh_headers),
        "me": client.get("/api/v1/auth/me", headers=admin.headers),
        "patch me": client.patch("/api/v1/auth/me", json={"bio": "hi"}, headers=admin.headers),
        "users": client.get("/api/v1/users", headers=admin.headers),
        "change user": client.patch(
            "/api/v1/users/bob", json={"role": "editor"}, headers=admin.headers
        ),
        "password": client.put("/api/v1/auth/password", json=new_password, headers=alice.headers),
    }
    for name, response in responses.items():
        assert response.status_code in (200, 201), (name, response.get_json())
        text = response.get_data(as_text=True)
        assert "@example.com" in text or "access_token" in text, name
        assert response.headers["Cache-Control"] == "no-store", name


@pytest.mark.parametrize(
    ("policy", "for_a_caller_with_a_token"),
    [
        ("public, max-age=60", "no-store"),
        ("max-age=60", "no-store"),
        ("public, private", "no-store"),
        ("private, no-cache", "private, no-cache"),
        ("no-store", "no-store"),
    ],
)
def test_an_authenticated_response_never_reaches_a_shared_cache(policy, for_a_caller_with_a_token):
    """Should a view mark itself cacheable, a response to a caller with a token stays private."""
    app = make_app()

    @app.route("/cacheable")
    def cacheable() -> Response:
        return Response("{}", headers={"Cache-Control": policy})

    client = app.test_client()
    alice = sign_up(client, app, "alice")
    assert client.get("/cacheable").headers["Cache-Control"] == policy
    response = client.get("/cacheable", headers=alice.headers)
    assert response.headers["Cache-Control"] == for_a_caller_with_a_token


def test_hsts_is_sent_when_configured():
    """In production behind HTTPS, HSTS_SECONDS turns on Strict-Transport-Security."""
    app = make_app(HSTS_SECONDS=31536000)
    response = app.test_client().get("/api/v1/health")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
