"""SQLite connections that behave like PostgreSQL where the API relies on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event


def unicode_lower(value: Any) -> Any:
    """lower() for every script, not only ASCII (SQLite's built-in folds ASCII alone)."""
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Unicode lower() and enforced foreign keys on every new SQLite connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function("lower", 1, unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
