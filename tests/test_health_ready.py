"""Readiness: an operator's load balancer asks GET /health/ready whether an instance may take
traffic. It says yes on a database built by the migrations, and no, naming the check, when the
database is at another revision than the code, when webhook work piles up, when Redis or the
database is away."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from blogapi.db.revisions import code_history
from blogapi.extensions import db, limiter
from blogapi.mail.sending import send_due_mail
from blogapi.timeutil import utcnow
from blogapi.webhooks.delivery import deliver
from blogapi.webhooks.relay import relay_round
from config import Config, ConfigError
from devtools.binaries import ensure_redis_installed
from devtools.live import ROOT
from devtools.redis_server import RedisServer
from tests.support.accounts import Account, register
from tests.support.apps import app_on, dispose, make_app
from tests.support.contract import ContractClient
from tests.support.databases import fresh_database, suite_admin_url, upgrade
from tests.support.metrics import Samples, parse, value
from tests.support.posts import new_post, publish, published_post
from tests.support.prerequisites import unavailable
from tests.support.problems import assert_problem
from tests.support.webhooks import Receiver

READY = "/api/v1/health/ready"
MIGRATIONS = ROOT / "migrations"
HEAD = code_history(str(MIGRATIONS)).heads
ALL_OK = {"database": "ok", "redis": "not configured", "migrations": "ok", "queue": "ok"}
NOT_CHECKED = "not checked: the database is unavailable"


def stamp(app: Flask, *revisions: str) -> None:
    """Record `revisions` as the database's, as `manage.py db stamp` does."""
    with app.app_context():
        db.session.execute(
            text(
                "CREATE TABLE IF NOT EXISTS alembic_version "
                "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
            )
        )
        db.session.execute(text("DELETE FROM alembic_version"))
        for revision in revisions:
            db.session.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
        db.session.commit()


def unstamp(app: Flask) -> None:
    """Drop the version table (the suite's server database outlives the test)."""
    with app.app_context():
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()


@pytest.fixture
def app() -> Iterator[Flask]:
    """A fresh app whose database (built by create_all) is stamped with the code's head, as
    `manage.py db stamp head` would; webhooks may reach the loopback receiver."""
    app = make_app(WEBHOOK_ALLOW_PRIVATE=True)
    stamp(app, *HEAD)
    yield app
    unstamp(app)
    dispose(app)


def documented(app: Flask) -> ContractClient:
    """A client of `app` whose every reply must match the OpenAPI document it serves."""
    client = app.test_client()
    return ContractClient(app, client, client.get("/api/v1/openapi.json").get_json())


def not_ready(response: Any, *failed: str) -> dict[str, Any]:
    """Assert a 503 problem naming exactly the `failed` checks, never cached; its body."""
    body = assert_problem(response, 503)
    assert body["detail"] == f"Not ready: {', '.join(failed)}.", body
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Retry-After"]
    passed = (*ALL_OK.values(), NOT_CHECKED)
    assert {name for name, result in body["checks"].items() if result not in passed} == set(failed)
    return body


def test_a_fresh_app_is_ready_and_says_so_uncached(app: Flask):
    response = documented(app).call("GET", READY)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ready", "checks": ALL_OK, "backlog": 0}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.database_agnostic
def test_probes_are_never_rate_limited():
    # An operator's default limit counts every other request.
    limited = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="2 per minute")
    try:
        stamp(limited, *HEAD)
        probe = limited.test_client()
        assert [probe.get(READY).status_code for _ in range(4)] == [200] * 4
        assert [probe.get("/api/v1/health").status_code for _ in range(4)] == [200] * 4
        assert [probe.get("/api/v1/tags").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        limiter.limit_manager.set_default_limits([])  # the limiter outlives this app
        unstamp(limited)
        dispose(limited)


def test_probes_are_never_replayed(app: Flask, client: FlaskClient):
    assert client.get(READY).status_code == 200
    history = code_history(str(MIGRATIONS))
    stamp(app, sorted(history.revisions - history.heads)[0])  # a change no content version sees
    not_ready(client.get(READY), "migrations")


def test_a_database_behind_the_code_is_not_ready_and_one_ahead_of_it_is(app, client: FlaskClient):
    history = code_history(str(MIGRATIONS))
    [older, *_] = sorted(history.revisions - history.heads)
    stamp(app, older)
    body = not_ready(documented(app).call("GET", READY), "migrations")
    [head] = HEAD
    assert body["checks"] == ALL_OK | {
        "migrations": f"the database is at {older}, behind this code's {head}: "
        "run manage.py db upgrade"
    }
    assert body["backlog"] == 0  # the other checks still ran

    # A newer release's migration, applied first in a rolling deploy: this (older) instance
    # still serves, as expand-then-contract promises, until it is replaced.
    stamp(app, "fedcba987654")
    assert client.get(READY).status_code == 200

    unstamp(app)  # a schema never built or stamped by the migrations
    body = not_ready(client.get(READY), "migrations")
    assert "manage.py db upgrade" in body["checks"]["migrations"]

    stamp(app, *HEAD)
    assert client.get(READY).status_code == 200


def test_a_database_built_by_the_migrations_is_ready_until_they_part(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)  # what `make run` and the deployment guide do
        app = app_on(url)
        try:
            client = app.test_client()
            ready = client.get(READY)
            assert ready.status_code == 200, ready.get_json()
            assert ready.get_json() == {"status": "ready", "checks": ALL_OK, "backlog": 0}
            with app.app_context():
                db.session.execute(text("UPDATE alembic_version SET version_num = '3401f3df1499'"))
                db.session.commit()
            body = not_ready(client.get(READY), "migrations")
            assert "at 3401f3df1499, behind" in body["checks"]["migrations"]
        finally:
            dispose(app)


@pytest.mark.database_agnostic
def test_the_code_head_is_alembics():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS))
    assert set(scripts.get_heads()) == HEAD
    history = code_history(str(MIGRATIONS))
    assert history.revisions == {script.revision for script in scripts.walk_revisions()}


def test_webhook_work_piling_up_past_the_limit_is_not_ready(
    app: Flask, client: FlaskClient, admin: Account, author: Account, receiver: Receiver
):
    app.config["READY_MAX_BACKLOG"] = 2
    made = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["post.published"]},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.get_json()
    receiver.secret = made.get_json()["secret"]
    with app.app_context():
        send_due_mail()  # the accounts' verification mail (into .eml files): not webhook work
    # Two go-lives due now, and one scheduled for later (which waits on purpose).
    for title in ("One", "Two"):
        published_post(client, author, title=title)
    later = new_post(client, author, title="Later")
    scheduled = publish(client, author, later["id"], at=datetime(2099, 1, 1, tzinfo=UTC))
    assert scheduled.status_code == 200
    assert client.get(READY).get_json()["backlog"] == 2

    published_post(client, author, title="Three")
    body = not_ready(client.get(READY), "queue")
    assert body["backlog"] == 3  # one past the limit: counting stops there
    assert "more than 2 jobs (webhooks and mail)" in body["checks"]["queue"]

    # The worker fans the events out; the queue holds the three deliveries, not yet sent.
    queued: list[int] = []
    with app.app_context():
        relay_round(lambda delivery_id, _when: queued.append(delivery_id))
    assert len(queued) == 3
    assert not_ready(client.get(READY), "queue")["backlog"] == 3

    with app.app_context():
        for delivery_id in queued:
            deliver(delivery_id)
    assert len(receiver.received) == 3
    assert client.get(READY).get_json() == {"status": "ready", "checks": ALL_OK, "backlog": 0}


def test_mail_not_sent_counts_in_the_backlog_until_the_worker_sends_it(smtp_server):
    app = make_app(MAIL_URL=smtp_server.url, READY_MAX_BACKLOG=2)
    stamp(app, *HEAD)
    try:
        client = app.test_client()
        for name in ("ada", "grace"):  # each registration stages a verification message
            assert register(client, name, f"{name}@example.com").status_code == 201
        assert client.get(READY).get_json()["backlog"] == 2

        assert register(client, "linus", "linus@example.com").status_code == 201
        body = not_ready(client.get(READY), "queue")  # no worker has sent them
        assert body["backlog"] == 3
        assert "more than 2 jobs (webhooks and mail)" in body["checks"]["queue"]
        assert value(scrape(client), "blogapi_mail_queue_depth", when="due") == 3

        smtp_server.stop()  # the worker tries: each message waits for its retry, not due now
        with app.app_context():
            assert send_due_mail() == 0
        assert client.get(READY).get_json() == {"status": "ready", "checks": ALL_OK, "backlog": 0}
        waiting = scrape(client)
        assert value(waiting, "blogapi_mail_queue_depth", when="due") == 0
        assert value(waiting, "blogapi_mail_queue_depth", when="later") == 3

        smtp_server.start()
        with app.app_context():
            assert send_due_mail(now=utcnow() + timedelta(minutes=1)) == 3
        assert len(smtp_server.wait_for(3)) == 3
        assert value(scrape(client), "blogapi_mail_queue_depth", when="later") == 0
    finally:
        unstamp(app)
        dispose(app)


def scrape(client: FlaskClient) -> Samples:
    """GET /metrics from loopback, parsed."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse(response.get_data(as_text=True))


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.database_agnostic
def test_a_redis_that_does_not_answer_is_not_ready_fast_and_unnamed():
    port = closed_port()
    app = make_app(REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0")
    try:
        stamp(app, *HEAD)
        started = time.monotonic()
        response = app.test_client().get(READY)
        assert time.monotonic() - started < 2
        body = not_ready(response, "redis")
        assert body["checks"]["redis"].startswith("REDIS_URL: no answer to PING")
        text_sent = response.get_data(as_text=True)
        assert "hunter2" not in text_sent and str(port) not in text_sent
    finally:
        unstamp(app)
        dispose(app)


@pytest.mark.database_agnostic
def test_a_redis_that_answers_is_ready_and_one_that_stops_is_not():
    if ensure_redis_installed() is None:
        unavailable("redis-server is not installed")
    with RedisServer() as server:
        # The queue's Redis, and the rate limits' in a database of their own.
        limits = server.url.removesuffix("/0") + "/1"
        app = make_app(REDIS_URL=server.url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=limits)
        try:
            stamp(app, *HEAD)
            client = app.test_client()
            ready = client.get(READY)
            assert ready.status_code == 200, ready.get_json()
            assert ready.get_json()["checks"] == ALL_OK | {"redis": "ok"}
            server.stop()
            body = not_ready(client.get(READY), "redis")
            assert body["checks"]["redis"] == (
                "REDIS_URL: no answer to PING (ConnectionError); "
                "RATELIMIT_STORAGE_URI: no answer to PING (ConnectionError)"
            )
        finally:
            unstamp(app)
            dispose(app)


def test_a_lost_database_is_not_ready_and_the_checks_that_need_it_wait(tmp_path):
    gone = app_on(f"sqlite:///{tmp_path}/no-such-dir/blogapi.db")
    response = documented(gone).call("GET", READY)
    body = not_ready(response, "database")
    assert body["checks"]["database"].startswith("unavailable: OperationalError")
    assert body["checks"]["migrations"] == body["checks"]["queue"] == NOT_CHECKED
    assert body["backlog"] is None
    assert "no-such-dir" not in response.get_data(as_text=True)


@pytest.mark.database_agnostic
@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_the_backlog_limit_must_be_a_positive_whole_number(monkeypatch, value: str):
    monkeypatch.setenv("READY_MAX_BACKLOG", value)
    with pytest.raises(ConfigError, match="READY_MAX_BACKLOG"):
        Config()
