"""Stories about rate limits kept in Redis: shared by every worker, and Redis going away.

Needs a redis-server binary: skipped without it on a developer's machine, failed on CI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from devtools.binaries import ensure_redis_installed
from devtools.redis_server import RedisServer
from tests.support.accounts import PASSWORD
from tests.support.apps import dispose, make_app
from tests.support.prerequisites import unavailable
from tests.support.problems import assert_problem

LIMIT = "3 per minute"
LOGIN = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Any]:
    """A throwaway Redis on a loopback port for this module."""
    if ensure_redis_installed() is None:
        unavailable("redis-server is not installed")
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: Any) -> Iterator[str]:
    """The Redis URL, emptied before each story; Redis is running again after it."""
    redis.Redis.from_url(redis_server.url).flushdb()
    yield redis_server.url
    if not redis_server.is_running:
        redis_server.start_again()


def worker(redis_url: str) -> Flask:
    """One gunicorn worker: its own app, its own connection to the shared Redis."""
    return make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT=LIMIT, RATELIMIT_STORAGE_URI=redis_url)


def guess(app: Flask, address: str, name: str = "alice") -> Any:
    """One wrong-password login from an address."""
    return app.test_client().post(
        LOGIN,
        json={"username": name, "password": "wrong guess"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_workers_share_the_count_through_redis(redis_url: str):
    """Three guesses on one worker, the fourth on another: still refused."""
    first = worker(redis_url)
    for _ in range(3):
        assert guess(first, "203.0.113.66").status_code == 401
    second = worker(redis_url)  # a fresh storage connection, as in another process
    assert_problem(guess(second, "203.0.113.66"), 429)
    assert redis.Redis.from_url(redis_url).keys(b"LIMITS:*")
    dispose(first)
    dispose(second)


def test_the_api_keeps_serving_and_limiting_when_redis_goes_down(
    redis_server: Any, redis_url: str, caplog: pytest.LogCaptureFixture
):
    """Redis stops: requests still succeed, limits fall back to memory, and the log says so."""
    app = worker(redis_url)
    client = app.test_client()
    payload = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=payload).status_code == 201

    redis_server.stop()
    with caplog.at_level(logging.INFO, logger="flask-limiter"):
        response = client.post(LOGIN, json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200
        for _ in range(2):
            assert guess(app, "127.0.0.1").status_code == 401
        assert_problem(guess(app, "127.0.0.1"), 429)  # the in-memory fallback still counts
    assert "falling back to in-memory storage" in caplog.text

    redis_server.start_again()
    caplog.clear()
    deadline = time.monotonic() + 20
    with caplog.at_level(logging.INFO, logger="flask-limiter"):
        address = 0
        while "storage recovered" not in caplog.text and time.monotonic() < deadline:
            address += 1
            assert guess(app, f"198.51.100.{address}").status_code in (401, 429)
            time.sleep(0.25)
    assert "storage recovered" in caplog.text
    assert redis.Redis.from_url(redis_url).keys(b"LIMITS:*")
    dispose(app)
