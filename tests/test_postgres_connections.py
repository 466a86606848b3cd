"""PostgreSQL going away costs requests a quick 503, never the app: it recovers by itself."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

import config as blog_config
from blogapi import create_app
from blogapi.db.engine import engine_options
from blogapi.extensions import db
from devtools.postgres_server import PostgresServer
from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.prerequisites import needs_postgres
from tests.support.problems import assert_problem

API = "/api/v1"


def production_like_app(url: str, **settings: object) -> Flask:
    """An app on url with TESTING off, so errors take the production path."""
    config = blog_config.TestingConfig()
    config.TESTING = False
    return create_app(config, SQLALCHEMY_DATABASE_URI=url, **settings)


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of our own, which these tests stop, kill and start again."""
    with PostgresServer("blogapi_outage") as pg:
        yield pg


def ada_signed_in(url: str, **settings: object) -> tuple[Flask, FlaskClient, str]:
    """A production-like app on a fresh schema, with ada registered and her access token."""
    app = production_like_app(url, **settings)
    with app.app_context():
        db.drop_all()
        db.create_all()
    client = app.test_client()
    assert register(client, "ada", "ada@example.com").status_code == 201
    token = login(client, "ada").get_json()["access_token"]
    return app, client, token


def timed(call, *args, **kwargs):
    """(the result of call, seconds it took)."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


@needs_postgres
def test_503_while_postgres_is_down_then_200_again_without_restarting_the_app(server):
    app, client, token = ada_signed_in(server.url, DATABASE_CONNECT_TIMEOUT=3)
    assert client.get(f"{API}/health").status_code == 200

    for outage in (server.stop, server.kill):  # a clean shutdown, then a crash
        outage()
        health, seconds = timed(client.get, f"{API}/health")
        body = assert_problem(health, 503)
        assert body["database"] == "unavailable" and health.headers["Retry-After"]
        assert seconds < 5
        assert_problem(login(client, "ada"), 503)
        assert_problem(client.get(f"{API}/auth/me", headers=bearer(token)), 503)

        server.start_again()
        health = client.get(f"{API}/health")
        assert health.status_code == 200
        assert health.get_json() == {"status": "ok", "database": "ok"}
        me = client.get(f"{API}/auth/me", headers=bearer(token))
        assert me.status_code == 200 and me.get_json()["username"] == "ada"
        assert login(client, "ada", PASSWORD).status_code == 200
    with app.app_context():
        db.engine.dispose()


def end_every_connection(server: PostgresServer) -> None:
    """What PostgreSQL's shutdown does to each client: end its backend (57P01)."""
    with server.connect(autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def end_every_connection_once(
    app: Flask, server: PostgresServer, hook: str, statement: str | None = None
) -> None:
    """End every connection once, at the engine's `hook` for `statement` (or the first one)."""
    armed = [True]

    def shutdown(conn, cursor, executing, parameters, context, executemany):
        if armed and statement in (None, executing):
            armed.clear()
            end_every_connection(server)

    with app.app_context():
        event.listen(db.engine, hook, shutdown)


@needs_postgres
def test_postgres_dropping_every_connection_mid_request_is_a_503_not_a_500(server, caplog):
    app, client, token = ada_signed_in(server.url)

    # A signed-in list reads the account, then the page, on the session's connection:
    # PostgreSQL's shutdown ends every connection between the two.
    end_every_connection_once(app, server, "after_cursor_execute")
    with caplog.at_level(logging.ERROR):
        listing = client.get(f"{API}/posts", headers=bearer(token))
    body = assert_problem(listing, 503)
    assert body["database"] == "unavailable"
    assert "database unavailable: AdminShutdown (57P01)" in caplog.text

    again = client.get(f"{API}/posts", headers=bearer(token))
    assert again.status_code == 200 and again.get_json()["meta"]["total"] == 0
    with app.app_context():
        db.engine.dispose()


@needs_postgres
def test_postgres_dropping_the_connection_after_the_answer_is_made_costs_nothing(server, caplog):
    app, client, token = ada_signed_in(server.url)

    # /auth/me reads the account, then answers from it: the connection dies before the
    # request's session is ended, so the rollback at teardown meets a dead connection.
    end_every_connection_once(app, server, "after_cursor_execute")
    with caplog.at_level(logging.ERROR):
        me = client.get(f"{API}/auth/me", headers=bearer(token))
    assert me.status_code == 200 and me.get_json()["username"] == "ada"
    assert "rollback failed, connection discarded: AdminShutdown (57P01)" in caplog.text

    again = client.get(f"{API}/auth/me", headers=bearer(token))
    assert again.status_code == 200 and again.get_json()["username"] == "ada"
    with app.app_context():
        db.engine.dispose()


def test_a_server_that_never_answers_is_a_503_after_the_connect_timeout():
    with socket.socket() as silent:  # accepts TCP connections, never speaks PostgreSQL
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        app = production_like_app(
            f"postgresql+psycopg://blogapi@127.0.0.1:{port}/blogapi", DATABASE_CONNECT_TIMEOUT=2
        )
        health, seconds = timed(app.test_client().get, f"{API}/health")
    assert_problem(health, 503)
    assert 1.5 < seconds < 10


def test_the_log_says_why_the_database_was_unavailable_without_the_request_data(caplog):
    with socket.socket() as probe:  # a free port: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = production_like_app(
        f"postgresql+psycopg://blogapi@127.0.0.1:{port}/blogapi", DATABASE_CONNECT_TIMEOUT=2
    )
    with caplog.at_level(logging.ERROR):
        assert_problem(login(app.test_client(), "ada", "a secret passphrase"), 503)
    logged = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert logged and "OperationalError: connection failed" in logged[0]
    assert "refused" in logged[0].lower()
    assert "a secret passphrase" not in caplog.text


@needs_postgres
def test_a_statement_timeout_can_be_set(server):
    app = production_like_app(server.url, DATABASE_STATEMENT_TIMEOUT=1)
    with app.app_context():
        assert db.session.scalar(text("SHOW statement_timeout")) == "1s"
        db.session.rollback()
        db.engine.dispose()


def test_timeouts_and_pings_only_apply_to_postgresql_and_yield_to_the_url():
    settings = {
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "DATABASE_CONNECT_TIMEOUT": 3,
        "DATABASE_STATEMENT_TIMEOUT": 30,
    }
    on_postgres = engine_options(
        {**settings, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@db.example/blog"}
    )
    assert on_postgres == {
        "pool_pre_ping": True,
        "hide_parameters": True,
        "connect_args": {"connect_timeout": 3, "options": "-c statement_timeout=30000"},
    }
    on_sqlite = engine_options({**settings, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert on_sqlite == {
        "pool_pre_ping": False,
        "hide_parameters": True,
    }  # no server behind a file: no ping to pay for
    in_the_url = engine_options(
        {**settings, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/b?connect_timeout=9"}
    )
    assert "connect_timeout" not in in_the_url["connect_args"]


def test_the_defaults_are_a_5_second_connect_timeout_and_no_statement_timeout(monkeypatch):
    monkeypatch.delenv("DATABASE_CONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT", raising=False)
    config = blog_config.TestingConfig()
    assert (config.DATABASE_CONNECT_TIMEOUT, config.DATABASE_STATEMENT_TIMEOUT) == (5, 0)
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "10")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "60")
    config = blog_config.TestingConfig()
    assert (config.DATABASE_CONNECT_TIMEOUT, config.DATABASE_STATEMENT_TIMEOUT) == (10, 60)
