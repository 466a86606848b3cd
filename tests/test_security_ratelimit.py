"""Stories about guessing passwords fast: per-address and per-account rate limits (429)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blogapi.extensions import db, limiter
from tests.support.accounts import PASSWORD
from tests.support.apps import make_app
from tests.support.problems import assert_problem

LIMIT = "3 per minute"
ATTEMPTS = 3
MALLORY = "203.0.113.66"
LOGIN = "/api/v1/auth/login"


def limited_app(**overrides: Any) -> Flask:
    """An app with rate limits on, at three attempts a minute."""
    return make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT=LIMIT, **overrides)


@pytest.fixture
def app() -> Iterator[Flask]:
    """The app under test, rate limited (overrides conftest's app)."""
    app = limited_app()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def from_address(address: str, **environ: str) -> dict[str, Any]:
    """Request arguments for a client connecting from `address`."""
    return {"environ_base": {"REMOTE_ADDR": address, **environ}}


def sign_up(client: FlaskClient, name: str, address: str) -> None:
    """Register `name` from its own address, so the setup spends none of Mallory's budget."""
    payload = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    response = client.post("/api/v1/auth/register", json=payload, **from_address(address))
    assert response.status_code == 201, response.get_json()


def log_in(client: FlaskClient, name: str, password: str, address: str, **headers: str) -> Any:
    """POST /auth/login from an address."""
    return client.post(
        LOGIN,
        json={"username": name, "password": password},
        headers=headers,
        **from_address(address),
    )


def assert_rate_limited(response: Any) -> None:
    """429 problem+json telling the client when to come back."""
    assert_problem(response, 429)
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.headers["X-RateLimit-Limit"] == str(ATTEMPTS)


def test_one_address_gets_three_login_attempts_a_minute(client: FlaskClient):
    """Mallory sprays one guess at each of four accounts; the fourth try is refused unchecked."""
    for index, name in enumerate(["alice", "bob", "carol", "dave"]):
        sign_up(client, name, f"10.0.0.{index + 1}")
    for name in ["alice", "bob", "carol"]:
        assert log_in(client, name, "password1", MALLORY).status_code == 401
    # Even the right password is not checked once the address is over its limit.
    assert_rate_limited(log_in(client, "dave", PASSWORD, MALLORY))


def test_one_account_gets_three_login_attempts_a_minute_from_anywhere(client: FlaskClient):
    """A botnet guesses Alice's password from a new address each time."""
    sign_up(client, "alice", "10.0.0.1")
    for bot in range(ATTEMPTS):
        assert log_in(client, "alice", f"guess {bot}", f"198.51.100.{bot}").status_code == 401
    assert_rate_limited(log_in(client, "alice", "guess 4", "198.51.100.200"))
    # However the name is spelled, it is the same account.
    assert_rate_limited(log_in(client, "  ALICE ", "guess 5", "198.51.100.201"))
    # Another account is not affected.
    sign_up(client, "bob", "10.0.0.2")
    assert log_in(client, "bob", PASSWORD, "198.51.100.202").status_code == 200


def test_registration_is_limited_per_address(client: FlaskClient):
    """Mass account creation from one address stops at the limit."""
    for index in range(ATTEMPTS):
        sign_up(client, f"bot{index}", MALLORY)
    payload = {"username": "bot9", "email": "bot9@example.com", "password": PASSWORD}
    response = client.post("/api/v1/auth/register", json=payload, **from_address(MALLORY))
    assert_rate_limited(response)


def test_refresh_is_limited_per_address(client: FlaskClient):
    """Refreshing in a loop is limited like logging in."""
    sign_up(client, "alice", "10.0.0.1")
    tokens = log_in(client, "alice", PASSWORD, MALLORY).get_json()
    for _ in range(ATTEMPTS):
        response = client.post(
            "/api/v1/auth/refresh",
            headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
            **from_address(MALLORY),
        )
        assert response.status_code == 200
        tokens = response.get_json()
    response = client.post(
        "/api/v1/auth/refresh",
        headers={"Authorization": f"Bearer {tokens['refresh_token']}"},
        **from_address(MALLORY),
    )
    assert_rate_limited(response)


def test_password_change_is_limited_per_address(client: FlaskClient):
    """A stolen fresh token cannot be used to guess the current password quickly."""
    sign_up(client, "alice", "10.0.0.1")
    token = log_in(client, "alice", PASSWORD, "10.0.0.1").get_json()["access_token"]
    guess = {"current_password": "wrong guess", "new_password": "a brand new passphrase"}
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(ATTEMPTS):
        response = client.put(
            "/api/v1/auth/password", json=guess, headers=headers, **from_address(MALLORY)
        )
        assert response.status_code == 401
    response = client.put(
        "/api/v1/auth/password", json=guess, headers=headers, **from_address(MALLORY)
    )
    assert_rate_limited(response)


def test_a_forged_forwarded_for_header_does_not_reset_the_limit(client: FlaskClient):
    """With no trusted proxy (TRUSTED_PROXIES=0) X-Forwarded-For is ignored."""
    sign_up(client, "alice", "10.0.0.1")
    sign_up(client, "bob", "10.0.0.2")
    sign_up(client, "carol", "10.0.0.3")
    for index, name in enumerate(["alice", "bob", "carol"]):
        response = log_in(client, name, "guess", MALLORY, **{"X-Forwarded-For": f"1.2.3.{index}"})
        assert response.status_code == 401
    response = log_in(client, "dave", "guess", MALLORY, **{"X-Forwarded-For": "1.2.3.99"})
    assert_rate_limited(response)


def test_behind_a_trusted_proxy_each_client_has_its_own_limit():
    """With TRUSTED_PROXIES=1 the proxy's X-Forwarded-For entry names the client."""
    app = limited_app(TRUSTED_PROXIES=1)
    client = app.test_client()
    proxy = "10.9.9.9"
    for name in ["alice", "bob", "carol", "dave"]:
        sign_up(client, name, f"10.0.1.{len(name)}")
    for name in ["alice", "bob", "carol"]:
        response = log_in(client, name, "guess", proxy, **{"X-Forwarded-For": MALLORY})
        assert response.status_code == 401
    assert_rate_limited(log_in(client, "dave", "guess", proxy, **{"X-Forwarded-For": MALLORY}))
    # Mallory prepends a forged hop; the proxy appends her real address, which is what counts.
    spoofed = f"1.2.3.4, {MALLORY}"
    assert_rate_limited(log_in(client, "dave", "guess", proxy, **{"X-Forwarded-For": spoofed}))
    # Another client behind the same proxy still gets in.
    response = log_in(client, "dave", PASSWORD, proxy, **{"X-Forwarded-For": "192.0.2.10"})
    assert response.status_code == 200


def test_the_limit_is_a_problem_response_with_testing_off():
    """Flask-RESTful's error handling would turn a 429 raised in a Resource into a 500."""
    app = limited_app(testing=False)
    client = app.test_client()
    for _ in range(ATTEMPTS):
        assert log_in(client, "nobody", "guess", MALLORY).status_code == 401
    assert_rate_limited(log_in(client, "nobody", "guess", MALLORY))


@pytest.mark.parametrize(
    "body",
    [
        b'{"username":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"username": "\\ud800", "password": "x"}',
        b'{"username": "' + b"a" * 2_000_000 + b'"}',
        b"\xff\xfe not json",
    ],
    ids=["deep-nesting", "lone-surrogate", "too-large", "not-utf8"],
)
def test_a_body_no_parser_likes_does_not_switch_the_limit_off(client: FlaskClient, body: bytes):
    """The per-account key reads the body first; failing there must not skip or reset limits."""
    for _ in range(ATTEMPTS):
        assert log_in(client, "alice", "guess", MALLORY).status_code == 401
    response = client.post(
        LOGIN, data=body, content_type="application/json", **from_address(MALLORY)
    )
    assert_rate_limited(response)
    assert_rate_limited(log_in(client, "alice", "guess", MALLORY))


def test_production_warns_when_limits_are_counted_per_process(caplog):
    """memory:// with several gunicorn workers multiplies every limit by the worker count."""
    caplog.set_level("WARNING", logger="blogapi.ratelimit")
    production = limited_app(ENV_NAME="production")
    assert "RATELIMIT_STORAGE_URI" not in caplog.text  # not in every admin command's output
    client = production.test_client()
    client.get("/api/v1/health")
    client.get("/api/v1/health")
    assert caplog.text.count("RATELIMIT_STORAGE_URI") == 1  # once, when it starts serving
    caplog.clear()
    limited_app().test_client().get("/api/v1/health")
    assert "RATELIMIT_STORAGE_URI" not in caplog.text


def test_reads_skip_the_limiter_until_an_operator_sets_a_default_limit():
    plain = limited_app()
    for _ in range(ATTEMPTS + 2):  # no limit on reading: the limiter is not even asked
        assert plain.test_client().get("/api/v1/posts", **from_address(MALLORY)).status_code == 200
    guarded = limited_app(RATELIMIT_DEFAULT="2 per minute")
    try:
        client = guarded.test_client()
        for _ in range(2):
            assert client.get("/api/v1/posts", **from_address(MALLORY)).status_code == 200
        refused = client.get("/api/v1/posts", **from_address(MALLORY))
        assert_problem(refused, 429)
        assert refused.headers["Retry-After"]
    finally:
        limiter.limit_manager.set_default_limits([])  # the limiter outlives this app
    for app in (plain, guarded):
        with app.app_context():
            db.engine.dispose()
