"""One SQLite file, many processes: a writer waits its turn; past the busy timeout, a 503."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from blogapi.db.engine import engine_options
from blogapi.extensions import db
from tests.support.accounts import sign_up
from tests.support.apps import make_app
from tests.support.posts import write_post
from tests.support.problems import assert_problem


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """Where the database file lives."""
    return tmp_path / "shared.db"


@pytest.fixture
def file_app(sqlite_file: Path) -> Iterator[Flask]:
    """The app on a SQLite file, waiting at most one second for another writer."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{sqlite_file}", DATABASE_BUSY_TIMEOUT=1)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def write_lock(path: Path, seconds: float | None = None) -> Iterator[None]:
    """Another process's write transaction on the file, held `seconds` (or to the end)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(seconds, other.rollback) if seconds is not None else None
    if timer:
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.join()
        other.rollback()
        other.close()


def test_a_writer_waits_for_another_process_to_finish_writing(file_app, sqlite_file):
    client = file_app.test_client()
    author = sign_up(client, file_app, "waiter", "author")
    with write_lock(sqlite_file, seconds=0.4):
        started = time.monotonic()
        created = write_post(client, author, title="Patience", tags=["queue"])
        waited = time.monotonic() - started
    assert created.status_code == 201, created.get_json()
    assert waited >= 0.3


def test_a_writer_locked_out_past_the_busy_timeout_gets_a_503(file_app, sqlite_file):
    client = file_app.test_client()
    author = sign_up(client, file_app, "locked", "author")
    with write_lock(sqlite_file):
        refused = write_post(client, author, title="Locked out", tags=["queue"])
    assert_problem(refused, 503)
    assert refused.headers["Retry-After"]
    assert write_post(client, author, title="Locked out", tags=["queue"]).status_code == 201


def test_the_busy_timeout_applies_to_sqlite_files_only():
    # SQLite has no server that can restart under a pooled connection, so no ping either.
    settings = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}, "DATABASE_BUSY_TIMEOUT": 7}
    on_file = engine_options({**settings, "SQLALCHEMY_DATABASE_URI": "sqlite:////srv/blog.db"})
    assert on_file == {
        "pool_pre_ping": False,
        "hide_parameters": True,
        "connect_args": {"timeout": 7},
    }
    in_memory = engine_options({**settings, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert in_memory == {"pool_pre_ping": False, "hide_parameters": True}


@pytest.mark.parametrize(("setting", "level"), [("NORMAL", 1), ("FULL", 2)])
def test_a_sqlite_file_is_written_ahead_with_the_configured_sync_level(sqlite_file, setting, level):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{sqlite_file}", SQLITE_SYNCHRONOUS=setting)
    client = app.test_client()
    author = sign_up(client, app, "logger", "author")
    assert write_post(client, author, title="Logged ahead").status_code == 201
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == level
        db.engine.dispose()
    # WAL belongs to the file: a connection made by anyone else sees it, and the post.
    with sqlite3.connect(sqlite_file) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT title FROM posts").fetchall() == [("Logged ahead",)]
