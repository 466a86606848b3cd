"""SQLite connections that behave like PostgreSQL where the API relies on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event


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


@event.listens_for(Engine, "savepoint")
def begin_before_savepoint(connection: Connection, _name: str) -> None:
    """Open the transaction before a savepoint that would otherwise be the outermost one."""
    # pysqlite issues BEGIN only before the first INSERT, UPDATE or DELETE. A SAVEPOINT sent
    # first starts a transaction of its own, and releasing it commits: a write that a later
    # error rolls back (a new tag, then a taken slug) would already be stored. The BEGIN goes
    # to the driver directly, as its own implicit one does (psycopg's is not seen either).
    driver = connection.connection.dbapi_connection
    if type(driver).__module__.startswith("sqlite3") and not driver.in_transaction:
        driver.execute("BEGIN")
