"""Fixtures: an app per test on a clean database, and accounts that log in through the API."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from blogapi import create_app
from blogapi.db import triggers as dbtriggers
from blogapi.db.models import User
from blogapi.extensions import db
from config import TestingConfig

# Flask's own switch: config.load_config() then never reads a developer's .env, and the servers
# tests start inherit it, so a .env cannot change what the suite sees.
os.environ["FLASK_SKIP_DOTENV"] = "1"

PASSWORD = "correct horse battery staple"
_schema_ready: set[str] = set()
_serial = itertools.count(1)


def reset_database() -> None:
    """A clean database: new tables for in-memory SQLite, emptied tables elsewhere."""
    url = str(db.engine.url)
    if url == "sqlite://" or (url.startswith("sqlite") and ":memory:" in url):
        db.create_all()
        return
    if url not in _schema_ready:
        db.drop_all()
        db.create_all()
        _schema_ready.add(url)
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
    dbtriggers.install(db.session.connection())
    db.session.commit()


def make_app(testing: bool = True, **overrides: Any) -> Flask:
    """A TestingConfig app on a clean database; testing=False behaves as production does."""
    config = TestingConfig()
    config.TESTING = testing
    app = create_app(config, **overrides)
    with app.app_context():
        reset_database()
    return app


@pytest.fixture
def app() -> Iterator[Flask]:
    """The app under test, with TESTING on."""
    app = make_app()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    """A CLI runner for the app's admin commands."""
    return app.test_cli_runner()


@dataclass
class Account:
    """A registered, logged-in user as a client sees them."""

    username: str
    email: str
    password: str
    role: str
    access_token: str = ""
    refresh_token: str = ""
    user: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header for this account's access token."""
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def refresh_headers(self) -> dict[str, str]:
        """The Authorization header for this account's refresh token."""
        return {"Authorization": f"Bearer {self.refresh_token}"}


def register(client: FlaskClient, username: str, email: str, password: str = PASSWORD) -> Any:
    """POST /auth/register."""
    payload = {"username": username, "email": email, "password": password}
    return client.post("/api/v1/auth/register", json=payload)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """POST /auth/login."""
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def set_role(app: Flask, username: str, role: str) -> None:
    """Give a user a role the way an admin's CLI would (self-registration cannot)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        user.role = role
        db.session.commit()


@pytest.fixture
def make_account(app: Flask, client: FlaskClient) -> Callable[..., Account]:
    """Register a user through the API, give it a role, and log it in through the API."""

    def make(role: str = "author", username: str | None = None) -> Account:
        name = username or f"{role}{next(_serial)}"
        account = Account(name, f"{name}@example.com", PASSWORD, role)
        response = register(client, account.username, account.email)
        assert response.status_code == 201, response.get_json()
        if role != app.config["DEFAULT_ROLE"]:
            set_role(app, name, role)
        response = login(client, name)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        account.access_token = body["access_token"]
        account.refresh_token = body["refresh_token"]
        account.user = body["user"]
        return account

    return make


@pytest.fixture
def author(make_account: Callable[..., Account]) -> Account:
    """A logged-in author."""
    return make_account("author")


@pytest.fixture
def admin(make_account: Callable[..., Account]) -> Account:
    """A logged-in admin."""
    return make_account("admin")
