"""Apps under test: on a clean database, on a file or server database, or on one as it is."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text

from blogapi import create_app
from blogapi.db import triggers as dbtriggers
from blogapi.extensions import db
from config import TestingConfig

_schema_ready: set[str] = set()


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
    """A TestingConfig app on a clean database, its media in a new folder of its own;
    testing=False behaves as production does."""
    config = TestingConfig()
    config.TESTING = testing
    overrides.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="blogapi-media-"))
    overrides.setdefault("MAIL_DIR", named_temp_folder("blogapi-mail-"))
    app = create_app(config, **overrides)
    with app.app_context():
        reset_database()
    return app


def file_database_app(tmp_path: Path, **overrides: Any) -> Flask:
    """An app whose connections are real and separate (threads need that): a SQLite file,
    or the TEST_DATABASE_URL server when one is configured."""
    if not os.environ.get("TEST_DATABASE_URL"):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'blog.db'}")
    return make_app(**overrides)


def app_on(url: str, **overrides: Any) -> Flask:
    """A TestingConfig app on the database at url, as it is (no tables made or emptied), its
    media in a new folder of its own unless overrides say where."""
    # Named, not made: the storage makes the folder at its first file, dispose() removes it.
    overrides.setdefault("MEDIA_ROOT", named_temp_folder("blogapi-media-"))
    overrides.setdefault("MAIL_DIR", named_temp_folder("blogapi-mail-"))
    return create_app(TestingConfig(), SQLALCHEMY_DATABASE_URI=url, **overrides)


def named_temp_folder(prefix: str) -> str:
    """A new folder's path in the temporary folder, not made yet (its first file makes it)."""
    return str(Path(tempfile.gettempdir()) / f"{prefix}{uuid.uuid4().hex}")


def dispose(app: Flask) -> None:
    """Close the app's database connections (so its database can be dropped), and remove its
    media and mail folders when the suite made them."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for key, prefix in (("MEDIA_ROOT", "blogapi-media-"), ("MAIL_DIR", "blogapi-mail-")):
        folder = Path(app.config[key])
        if folder.name.startswith(prefix) and folder.parent == Path(tempfile.gettempdir()):
            shutil.rmtree(folder, ignore_errors=True)
