"""Helpers the posts and tags tests share: writing posts through the API, reading problems."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from blogapi.extensions import db
from tests.conftest import PASSWORD, Account, login, make_app, register, set_role
from tests.support.problems import PROBLEM, assert_problem  # noqa: F401  (re-exported to posts tests)

API = "/api/v1"


def iso(moment: datetime) -> str:
    """A timestamp as the contract writes it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_post(client: FlaskClient, account: Account | None, **fields: Any) -> Any:
    """POST /posts with a title and body unless given; returns the response."""
    payload = {"title": "A post", "body": "Some *Markdown*."} | fields
    headers = account.headers if account else {}
    return client.post(f"{API}/posts", json=payload, headers=headers)


def new_post(client: FlaskClient, account: Account, **fields: Any) -> dict[str, Any]:
    """Create a draft and return its JSON."""
    response = write_post(client, account, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def publish(
    client: FlaskClient, account: Account, ident: Any, at: datetime | None = None, **headers: str
) -> Any:
    """POST /posts/{ident}/publish, now or at a given time."""
    kwargs: dict[str, Any] = {"headers": account.headers | headers}
    if at is not None:
        kwargs["json"] = {"publish_at": iso(at)}
    return client.post(f"{API}/posts/{ident}/publish", **kwargs)


def published_post(client: FlaskClient, account: Account, **fields: Any) -> dict[str, Any]:
    """Create and publish a post now; return its JSON."""
    post = new_post(client, account, **fields)
    response = publish(client, account, post["id"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def log_in_new(client: FlaskClient, app: Flask, username: str, role: str) -> Account:
    """Register and log in an account on any app (for apps made without the fixtures)."""
    account = Account(username, f"{username}@example.com", PASSWORD, role)
    assert register(client, username, account.email).status_code == 201
    if role != app.config["DEFAULT_ROLE"]:
        set_role(app, username, role)
    body = login(client, username).get_json()
    account.access_token = body["access_token"]
    return account


def file_database_app(tmp_path: Path, **overrides: Any) -> Flask:
    """An app whose connections are real and separate (threads need that): a SQLite file,
    or the TEST_DATABASE_URL server when one is configured."""
    if not os.environ.get("TEST_DATABASE_URL"):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'blog.db'}")
    return make_app(**overrides)


@contextmanager
def counted_queries(app: Flask) -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine runs inside the block, but BEGIN."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Like COMMIT, BEGIN is the transaction, not a query: only SQLite runs it as a statement.
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
