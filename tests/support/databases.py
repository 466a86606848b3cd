"""New, empty databases for tests, on the suite's PostgreSQL server when it has one, else SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from blogapi import create_app
from blogapi.extensions import db
from config import TestingConfig
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


def app_on(url: str) -> Flask:
    """A TestingConfig app on the database at url, as it is (no tables made or emptied)."""
    return create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=url)


def dispose(app: Flask) -> None:
    """Close the app's database connections (so its database can be dropped)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


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
