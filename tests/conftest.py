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

# Flask's own switch: config.load_config() then never reads a developer's .env, and the servers
# tests start inherit it, so a .env cannot change what the suite sees.
os.environ["FLASK_SKIP_DOTENV"] = "1"

_serial = itertools.count(1)


@pytest.fixture
def app() -> Iterator[Flask]:
    """The app under test, with TESTING on."""
    app = make_app()
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
