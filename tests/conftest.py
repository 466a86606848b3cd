"""Fixtures: an app per test on a clean database, and accounts that log in through the API."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import Account, sign_up
from tests.support.apps import dispose, make_app
from tests.support.mail import SmtpServer, start_smtp_server
from tests.support.s3 import s3_settings, stop_s3
from tests.support.webhooks import Receiver, start_receiver

# Flask's own switch: config.load_config() then never reads a developer's .env, and the servers
# tests start inherit it, so a .env cannot change what the suite sees.
os.environ["FLASK_SKIP_DOTENV"] = "1"

_serial = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, skip what proves nothing about the database: it ran (and would
    run the same) in the SQLite pass, and the suite has a time budget."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    once = pytest.mark.skip(reason="database-agnostic: runs once, in the SQLite pass")
    for item in items:
        if item.get_closest_marker("database_agnostic"):
            item.add_marker(once)


@pytest.fixture(scope="session", autouse=True)
def _s3_server_stops() -> Iterator[None]:
    """The moto S3 server (started by the first test that stores media on S3) stops at the end."""
    yield
    stop_s3()


@pytest.fixture(params=["filesystem", "s3"])
def storage(request: pytest.FixtureRequest) -> str:
    """Each media storage in turn: a folder, and a bucket on moto's S3 server over HTTP."""
    return str(request.param)


@pytest.fixture
def storage_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """App settings for the storage the test asks for (`storage`), else the default one."""
    kind = request.getfixturevalue("storage") if "storage" in request.fixturenames else None
    return s3_settings() if kind == "s3" else {}


@pytest.fixture
def app(storage_settings: dict[str, str]) -> Iterator[Flask]:
    """The app under test, with TESTING on (on the storage a test asks for)."""
    app = make_app(**storage_settings)
    yield app
    dispose(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for the app's admin commands."""
    return app.test_cli_runner()


@pytest.fixture
def make_account(app: Flask, client: FlaskClient) -> Callable[..., Account]:
    """Register a user through the API, give it a role, and log it in through the API."""

    def make(role: str = "author", username: str | None = None) -> Account:
        return sign_up(client, app, username or f"{role}{next(_serial)}", role)

    return make


@pytest.fixture
def author(make_account: Callable[..., Account]) -> Account:
    """A logged-in author."""
    return make_account("author")


@pytest.fixture
def admin(make_account: Callable[..., Account]) -> Account:
    """A logged-in admin."""
    return make_account("admin")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 checking deliveries with Standard Webhooks' library;
    each test sets its secret and how it answers."""
    found = start_receiver()
    yield found
    found.server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it receives; point MAIL_URL at
    `smtp_server.url` and read `smtp_server.messages`."""
    server = start_smtp_server()
    yield server
    server.stop()
