"""The content version, read on each thread's own connection: it sees every commit at once,
takes no slot of the pool, survives its connection being dropped, and lets go of the database
when the app does (so the database can be dropped)."""

from __future__ import annotations

import threading

from sqlalchemy import text

from blogapi.db import content_version
from blogapi.db.content_version import current_version
from blogapi.extensions import db
from tests.support.apps import app_on, dispose, file_database_app
from tests.support.databases import fresh_database, suite_admin_url, upgrade


def bump(app) -> None:
    """A change readers see, made through the pool (as another process would make it)."""
    with app.app_context():
        db.session.execute(text("UPDATE users SET display_name = display_name || '.'"))
        db.session.commit()


def add_reader(app) -> None:
    """One account, whose display name the bumps change."""
    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO users (id, username, username_key, email, email_key, password_hash,"
                " display_name, bio, role, active, token_version, created_at, updated_at) VALUES"
                " (1, 'ada', 'ada', 'a@example.com', 'a@example.com', 'x', 'Ada', '', 'author',"
                " true, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        db.session.commit()


def in_transaction(connection) -> bool:
    """Whether a driver connection sits in an open transaction (which would hold back
    PostgreSQL's vacuum, or be ended by idle_in_transaction_session_timeout)."""
    if hasattr(connection, "in_transaction"):  # sqlite3
        return bool(connection.in_transaction)
    return connection.info.transaction_status.name != "IDLE"  # psycopg


def version(app) -> content_version.Version:
    """The version as a request would read it."""
    with app.app_context():
        return current_version()


def test_each_commit_is_seen_at_once_and_no_pool_slot_is_taken(tmp_path):
    app = file_database_app(tmp_path)
    try:
        add_reader(app)
        before = version(app)
        assert content_version.held.engine is not None  # a file database: its own connection
        for n in range(1, 4):
            bump(app)
            now = version(app)
            assert now.value == before.value + n and now.changed_at is not None
        with app.app_context():
            assert db.engine.pool.checkedout() == 0
        assert not in_transaction(content_version.held.connection.dbapi_connection)
    finally:
        dispose(app)


def test_a_dropped_connection_is_replaced_without_an_error(tmp_path):
    app = file_database_app(tmp_path)
    try:
        add_reader(app)
        first = version(app)
        content_version.held.connection.dbapi_connection.close()  # the server let it go
        bump(app)
        assert version(app).value == first.value + 1  # read the usual way, then held again
        assert version(app).value == first.value + 1
        assert content_version.held.connection is not None
    finally:
        dispose(app)


def test_each_thread_reads_on_its_own_connection(tmp_path):
    app = file_database_app(tmp_path)
    try:
        add_reader(app)
        seen: dict[str, object] = {}

        def read(name: str) -> None:
            seen[name] = (version(app).value, id(content_version.held.connection))

        threads = [threading.Thread(target=read, args=(f"t{n}",)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({connection for _value, connection in seen.values()}) == 3
    finally:
        dispose(app)


def test_disposing_of_the_app_closes_its_version_connections_so_the_database_can_go(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        app = app_on(url)
        add_reader(app)
        version(app)
        held = content_version.held.connection
        assert held is not None
        dispose(app)
        assert held.dbapi_connection is None  # closed (fresh_database drops the database next)
        app = app_on(url)
        try:
            bump(app)
            assert version(app).value == 1  # a new app on the same database reads afresh
        finally:
            dispose(app)
