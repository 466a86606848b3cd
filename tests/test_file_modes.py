"""The instance folder, the SQLite database (password hashes) and generated secrets are
created readable by their owner only, whatever the umask lets other files be."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from blogapi import create_app
from blogapi.extensions import db
from devtools.live import LOOPBACK_SITE, ROOT
from tests.support.accounts import PASSWORD
from tests.support.apps import dispose


def mode(path: Path) -> int:
    """The permission bits of a file or folder."""
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def instance(monkeypatch, tmp_path) -> Iterator[Path]:
    """A fresh instance folder (not yet made), the default database in it, a common umask."""
    for name in ("DATABASE_URL", "SECRET_KEY", "JWT_SECRET_KEY", "BLOGAPI_ENV"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "instance"
    monkeypatch.setenv("BLOGAPI_INSTANCE_DIR", str(folder))
    previous = os.umask(0o022)  # files made without care would be 0644, folders 0755
    try:
        yield folder
    finally:
        os.umask(previous)


def manage(env: str, *args: str, stdin: str | None = None) -> None:
    """`python manage.py ARGS` in BLOGAPI_ENV `env` (a process of its own: alembic configures
    logging in it), with the default database; it must succeed."""
    environ = {**os.environ, "BLOGAPI_ENV": env, "PYTHONPATH": str(ROOT)}
    if env == "production":
        environ |= {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "SITE_URL": LOOPBACK_SITE,
            "MAIL_URL": "none",
        }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("env", ["development", "production"])
def test_db_upgrade_makes_a_private_instance_folder_and_database(instance, env):
    manage(env, "db", "upgrade")
    manage(
        env,
        "create-user",
        "owner",
        "--email",
        "owner@example.com",
        "--role",
        "admin",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert mode(instance) == 0o700
    assert mode(instance / "blogapi.db") == 0o600
    made = sorted(p.name for p in instance.glob("*.secret"))
    assert made == ([] if env == "production" else ["jwt_secret_key.secret", "secret_key.secret"])
    assert all(mode(instance / name) == 0o600 for name in made)


def test_the_write_ahead_log_and_shared_memory_files_follow_the_database(instance):
    app = create_app("development")
    try:
        with app.app_context(), db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("CREATE TABLE notes (body TEXT)")
            conn.exec_driver_sql("INSERT INTO notes VALUES ('a password hash')")
            conn.commit()
            made = {name: mode(instance / name) for name in os.listdir(instance)}
        assert made["blogapi.db"] == made["blogapi.db-wal"] == made["blogapi.db-shm"] == 0o600
    finally:
        dispose(app)


def test_an_instance_folder_the_operator_made_keeps_its_mode(instance):
    instance.mkdir(mode=0o750)
    manage("development", "db", "upgrade")
    assert mode(instance) == 0o750  # tightened only what we create
    assert mode(instance / "blogapi.db") == 0o600
