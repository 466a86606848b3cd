"""Stories about one signed-in user going fast: post writes, and probing emails through
PATCH /auth/me, are limited per user (429 with Retry-After)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import config as settings
from blogapi.db.models import Post
from blogapi.extensions import db, limiter
from tests.support.accounts import Account, sign_up
from tests.support.apps import dispose, make_app
from tests.support.logs import audit_lines
from tests.support.problems import assert_problem

POSTS = "/api/v1/posts"
ME = "/api/v1/auth/me"
MALLORY = "203.0.113.66"


def limited_app(**overrides: Any) -> Flask:
    """Rate limits on: three post writes and three email changes a minute."""
    limits = {"POST_WRITE_RATE_LIMIT": "3 per minute", "LOGIN_RATE_LIMIT": "3 per minute"}
    return make_app(**{"RATELIMIT_ENABLED": True, **limits, **overrides})


@pytest.fixture
def app() -> Iterator[Flask]:
    """The app under test, rate limited (overrides conftest's app)."""
    app = limited_app()
    yield app
    dispose(app)


def account(client: FlaskClient, app: Flask, name: str, address: str = "") -> Account:
    """Sign up and log in from an address of its own (so setting up spends no one's budget),
    then use `address` (default: that same one) from here on."""
    client.environ_base["REMOTE_ADDR"] = f"10.0.{len(name)}.{sum(map(ord, name)) % 250 + 1}"
    user = sign_up(client, app, name, "contributor")
    client.environ_base["REMOTE_ADDR"] = address or client.environ_base["REMOTE_ADDR"]
    return user


def assert_rate_limited(response: Any, limit: int = 3) -> None:
    """429 problem+json telling the client when to come back."""
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Limit"] == str(limit)


def post_count(app: Flask) -> int:
    """How many posts are stored."""
    with app.app_context():
        return db.session.query(Post).count()


def create(client: FlaskClient, who: Account, title: str) -> Any:
    """POST /posts as `who`."""
    return client.post(POSTS, json={"title": title, "body": "x"}, headers=who.headers)


def edit(client: FlaskClient, who: Account, post_id: int, title: str) -> Any:
    """PATCH /posts/{id} as `who`."""
    return client.patch(f"{POSTS}/{post_id}", json={"title": title}, headers=who.headers)


def test_the_fourth_post_write_in_a_minute_is_refused(app: Flask, client: FlaskClient):
    """Creating and editing share one budget per user; the refused write stores nothing."""
    ada = account(client, app, "ada")
    first = create(client, ada, "One").get_json()["id"]
    assert edit(client, ada, first, "Uno").status_code == 200
    assert create(client, ada, "Two").status_code == 201
    assert_rate_limited(create(client, ada, "Three"))
    assert_rate_limited(edit(client, ada, first, "Eins"))
    assert post_count(app) == 2
    assert client.get(f"{POSTS}/{first}", headers=ada.headers).get_json()["title"] == "Uno"
    # Reading is not writing.
    assert client.get(POSTS, headers=ada.headers).status_code == 200


def test_counting_writes_in_memory_starts_no_thread_per_request(
    app: Flask, client: FlaskClient, monkeypatch
):
    """memory:// counters are swept by the requests themselves, not by a new timer thread
    after each one (limits' own MemoryStorage does that); the limit holds all the same."""
    ada = account(client, app, "ada")
    timers: list[Any] = []
    original = threading.Timer

    def counted_timer(*args: Any, **kwargs: Any) -> threading.Timer:
        timers.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(threading, "Timer", counted_timer)
    assert [create(client, ada, f"T{n}").status_code for n in range(3)] == [201] * 3
    assert_rate_limited(create(client, ada, "T3"))
    assert timers == []


def test_another_user_at_the_same_address_keeps_their_own_budget(app: Flask, client: FlaskClient):
    ada = account(client, app, "ada", MALLORY)
    bob = account(client, app, "bob", MALLORY)
    assert [create(client, ada, f"A{n}").status_code for n in range(3)] == [201] * 3
    assert_rate_limited(create(client, ada, "A3"))
    assert [create(client, bob, f"B{n}").status_code for n in range(3)] == [201] * 3


def test_writes_without_a_valid_token_are_401_and_spend_no_budget(app: Flask, client: FlaskClient):
    ada = account(client, app, "ada")
    forged = {"Authorization": f"Bearer {ada.access_token[:-4]}AAAA"}
    for headers in [{}, forged, ada.refresh_headers] * 2:
        response = client.post(POSTS, json={"title": "No", "body": "x"}, headers=headers)
        assert_problem(response, 401)
    assert [create(client, ada, f"A{n}").status_code for n in range(3)] == [201] * 3


def change_email(client: FlaskClient, who: Account, email: str) -> Any:
    """PATCH /auth/me {email} as `who`."""
    return client.patch(ME, json={"email": email}, headers=who.headers)


def test_an_operators_default_limit_still_holds_on_every_method():
    """The per-user limit adds to RATELIMIT_DEFAULT: it must not replace it on the endpoint's
    reads once a write has gone through it."""
    app = limited_app(RATELIMIT_DEFAULT="3 per minute", POST_WRITE_RATE_LIMIT="100 per minute")
    try:
        client = app.test_client()
        assert create(client, account(client, app, "ada"), "A").status_code == 201
        client.environ_base["REMOTE_ADDR"] = MALLORY
        assert [client.get(POSTS).status_code for _ in range(3)] == [200] * 3
        assert_rate_limited(client.get(POSTS))
    finally:
        limiter.limit_manager.set_default_limits([])  # the limiter outlives this app
        dispose(app)


def test_the_limit_is_audited_with_the_user_id(app: Flask, client: FlaskClient, caplog):
    caplog.set_level("INFO", logger="blogapi.audit")
    ada = account(client, app, "ada")
    for n in range(4):
        create(client, ada, f"A{n}")
    hits = [line for line in audit_lines(caplog) if line["event"] == "rate_limited"]
    assert len(hits) == 1
    assert (hits[0]["user_id"], hits[0]["scope"]) == (str(ada.user["id"]), "post-write-user")


def test_an_email_probe_is_limited_per_user(app: Flask, client: FlaskClient):
    """Mallory asks for address after address: taken ones say 409, a free one moves her."""
    account(client, app, "victim")
    mallory = account(client, app, "mallory")
    probes = ["victim@example.com", "VICTIM@example.com", "free@example.com"]
    assert [change_email(client, mallory, e).status_code for e in probes] == [409, 409, 200]
    assert_rate_limited(change_email(client, mallory, "someone@example.com"))
    # Her profile is hers to edit all the same, and another user's email changes are theirs.
    bio = client.patch(ME, json={"bio": "just looking"}, headers=mallory.headers)
    assert bio.status_code == 200
    carol = account(client, app, "carol")
    assert change_email(client, carol, "carol@example.org").status_code == 200


def test_an_email_probe_is_limited_per_address_across_accounts(app: Flask, client: FlaskClient):
    """Spreading probes over several accounts from one address does not multiply the budget."""
    accounts = [account(client, app, name, MALLORY) for name in ("mal", "mallory", "malcolm")]
    for probe, who in enumerate(accounts):
        assert change_email(client, who, f"probe{probe}@example.com").status_code == 200
    assert_rate_limited(change_email(client, accounts[0], "probe9@example.com"))
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert change_email(client, accounts[1], "probe9@example.com").status_code == 200


def test_without_rate_limiting_nothing_is_limited():
    app = limited_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    ada = account(client, app, "ada")
    assert [create(client, ada, f"A{n}").status_code for n in range(5)] == [201] * 5
    emails = [f"ada{n}@example.org" for n in range(5)]
    assert [change_email(client, ada, e).status_code for e in emails] == [200] * 5
    dispose(app)


def test_post_write_rate_limit_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BLOGAPI_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.delenv("POST_WRITE_RATE_LIMIT", raising=False)
    assert settings.load_config("development").POST_WRITE_RATE_LIMIT == "60 per minute"
    monkeypatch.setenv("POST_WRITE_RATE_LIMIT", "10 per hour")
    assert settings.load_config("development").POST_WRITE_RATE_LIMIT == "10 per hour"
