"""Stories about browsers calling the API from other origins (CORS allowlist)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from tests.support.accounts import sign_up
from tests.support.apps import make_app

APP_ORIGIN = "https://app.example.com"
EXPOSED = {"location", "etag", "link", "x-total-count", "retry-after"}


def browser_app(**overrides: Any) -> Flask:
    """An app that lets the single-page app at APP_ORIGIN call it, failing like production."""
    app = make_app(testing=False, CORS_ORIGINS=[APP_ORIGIN, "http://localhost:5173"], **overrides)

    @app.route("/crash")
    def crash() -> Response:
        raise RuntimeError("boom")

    return app


def preflight(client: FlaskClient, path: str, method: str, origin: str = APP_ORIGIN) -> Any:
    """What a browser sends before a cross-origin request with a token and a JSON body."""
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def cors_headers(response: Any) -> dict[str, str]:
    """The Access-Control-* headers of a response."""
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def split(value: str) -> set[str]:
    """A comma-separated header value as a set of lower-case items."""
    return {item.strip().lower() for item in value.split(",") if item.strip()}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/auth/login", "POST"),
        ("/api/v1/auth/me", "PATCH"),  # needs a token: the preflight does not
        ("/api/v1/users/alice", "PATCH"),  # needs an admin: the preflight does not
        ("/api/v1/auth/password", "PUT"),
    ],
)
def test_a_preflight_from_the_app_is_answered(path: str, method: str):
    """The browser asks first, without a token; the answer allows the token and the method."""
    response = preflight(browser_app().test_client(), path, method)
    assert response.status_code == 200
    headers = cors_headers(response)
    assert headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert method.lower() in split(headers["Access-Control-Allow-Methods"])
    assert {"authorization", "content-type"} <= split(headers["Access-Control-Allow-Headers"])
    assert "Access-Control-Allow-Credentials" not in headers  # bearer tokens, no cookies
    assert "Origin" in response.headers.get("Vary", "")


def test_preflights_are_not_rate_limited():
    """Preflights neither count against nor are blocked by the login limit."""
    app = browser_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(10):
        assert preflight(client, "/api/v1/auth/login", "POST").status_code == 200
    guess = {"username": "alice", "password": "guess"}
    for _ in range(3):
        assert client.post("/api/v1/auth/login", json=guess).status_code == 401
    limited = client.post("/api/v1/auth/login", json=guess, headers={"Origin": APP_ORIGIN})
    assert limited.status_code == 429
    assert limited.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "retry-after" in split(limited.headers["Access-Control-Expose-Headers"])
    assert preflight(client, "/api/v1/auth/login", "POST").status_code == 200


def test_the_app_can_read_the_headers_it_needs():
    """Location, ETag, Link, X-Total-Count and Retry-After are exposed to the page's script."""
    app = browser_app()
    client = app.test_client()
    token = sign_up(client, app, "alice").access_token
    response = client.get(
        "/api/v1/auth/me", headers={"Origin": APP_ORIGIN, "Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert split(response.headers["Access-Control-Expose-Headers"]) >= EXPOSED


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/auth/me", 401),
        ("GET", "/api/v1/nowhere", 404),
        ("DELETE", "/api/v1/auth/login", 405),
        ("POST", "/api/v1/auth/register", 422),
        ("GET", "/crash", 500),
    ],
)
def test_error_problems_reach_the_app_too(method: str, path: str, status: int):
    """Without CORS headers on errors the page could not read why a request failed."""
    client = browser_app().test_client()
    response = client.open(path, method=method, json={}, headers={"Origin": APP_ORIGIN})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://app.example.com.evil.example",
        "https://evil-app.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "null",
    ],
)
def test_other_origins_get_no_cors_headers(origin: str):
    """Only exact allowed origins: look-alikes, other schemes and ports get nothing."""
    app = browser_app()
    client = app.test_client()
    token = sign_up(client, app, "alice").access_token
    assert cors_headers(preflight(client, "/api/v1/auth/me", "PATCH", origin)) == {}
    response = client.get(
        "/api/v1/auth/me", headers={"Origin": origin, "Authorization": f"Bearer {token}"}
    )
    assert cors_headers(response) == {}


def test_no_cors_at_all_when_no_origins_are_configured():
    """The default: CORS_ORIGINS empty, no Access-Control-* header on anything."""
    client = make_app().test_client()
    assert cors_headers(preflight(client, "/api/v1/auth/login", "POST")) == {}
    response = client.post("/api/v1/auth/login", json={}, headers={"Origin": APP_ORIGIN})
    assert cors_headers(response) == {}


@pytest.mark.parametrize(
    "origins", [["*"], ["https://app.example.com/login"], ["app.example.com"], ["https://*.x.io"]]
)
def test_a_cors_origin_that_is_not_an_exact_origin_stops_the_app(origins, capsys):
    """A wildcard, a path or a bare host in CORS_ORIGINS is a configuration error."""
    with pytest.raises(SystemExit):
        make_app(CORS_ORIGINS=origins)
    assert "CORS_ORIGINS" in capsys.readouterr().err


def test_a_trailing_slash_on_an_origin_is_forgiven():
    """Browsers send origins without one; the configured value is normalized."""
    client = make_app(CORS_ORIGINS=["https://App.Example.com/"]).test_client()
    response = preflight(client, "/api/v1/auth/login", "POST")
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
