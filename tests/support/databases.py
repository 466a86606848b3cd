"""Databases for tests: new empty ones, migrated by manage.py, and what their apps hold and run.

New databases go on the suite's PostgreSQL server when it has one, else into SQLite files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, select, text

from blogapi.db import content_version
from blogapi.extensions import db
from devtools.live import ROOT, production_env


def suite_admin_url() -> str | None:
    """The maintenance database URL of the suite's PostgreSQL server, if it runs on one."""
    return os.environ.get("TEST_PG_ADMIN_URL") or None


@contextmanager
def fresh_database(tmp_path: Path, admin_url: str | None = None) -> Iterator[str]:
    """The URL of a new empty database: on the PostgreSQL server of admin_url, else SQLite."""
    if not admin_url:
        yield f"sqlite:///{tmp_path / f'fresh-{uuid.uuid4().hex[:8]}.db'}"
        return
    import psycopg

    name = f"blogapi_fresh_{uuid.uuid4().hex[:12]}"
    dsn = admin_url.replace("+psycopg", "")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(url: str, *args: str, stdin: str | None = None, **env: str) -> Any:
    """Run `python manage.py ARGS` against the database at url, as an admin would."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=production_env(url, **env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def upgrade(url: str) -> None:
    """Apply the migrations with `manage.py db upgrade`."""
    result = manage(url, "db", "upgrade")
    assert result.returncode == 0, result.stderr


def all_rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary key order, as plain dicts."""
    with app.app_context():
        rows = {
            table.name: [
                dict(row)
                for row in db.session.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in db.metadata.sorted_tables
        }
        db.session.rollback()
    return rows


def table_rows(app: Flask, *tables: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the named tables, in a stable order, to compare before and after."""
    with app.app_context():
        rows = {
            table: [tuple(row) for row in db.session.execute(text(f"SELECT * FROM {table}"))]
            for table in tables
        }
        db.session.remove()
    return {table: sorted(found, key=repr) for table, found in rows.items()}


@contextmanager
def sent_statements(app: Flask, keep: Callable[[str], bool]) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements keep() accepts that the app sends inside the block, with parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if keep(statement):
            sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    read_held = content_version.read_held

    def record_held(on: Any, query: str = content_version.QUERY, parameters: Any = ()) -> Any:
        # What is read on a thread's own connection bypasses the engine's events.
        if on is engine and keep(query):
            sent.append((query, parameters))
        return read_held(on, query, parameters)

    event.listen(engine, "before_cursor_execute", record)
    content_version.read_held = record_held
    try:
        yield sent
    finally:
        content_version.read_held = read_held
        event.remove(engine, "before_cursor_execute", record)


def counted_queries(app: Flask) -> AbstractContextManager[list[tuple[str, Any]]]:
    """Every SQL statement the app runs inside the block, but BEGIN."""
    # Like COMMIT, BEGIN is the transaction, not a query: only SQLite runs it as a statement.
    return sent_statements(app, lambda statement: not statement.startswith("BEGIN"))


@contextmanager
def postgres_admin_url() -> Iterator[str | None]:
    """A PostgreSQL server's maintenance URL: the suite's, else a throwaway one, else None."""
    if suite_admin_url():
        yield suite_admin_url()
        return
    from devtools.binaries import find_pg_bindir
    from devtools.postgres_server import PostgresServer

    if find_pg_bindir() is None:
        yield None
        return
    with PostgresServer() as server:
        yield server.admin_url


def plan_nodes(plan: Any) -> Iterator[dict[str, Any]]:
    """Every node of a PostgreSQL JSON plan (EXPLAIN (FORMAT JSON))."""
    if isinstance(plan, list):
        for item in plan:
            yield from plan_nodes(item)
    elif isinstance(plan, dict):
        node = plan.get("Plan", plan)
        yield node
        for child in node.get("Plans", []):
            yield from plan_nodes(child)
