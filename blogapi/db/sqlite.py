"""SQLite connections that behave like PostgreSQL where the API relies on it."""

from __future__ import annotations

import sqlite3
from typing import Any, TypeGuard

from sqlalchemy import Connection, Engine, event


def is_sqlite(dbapi_connection: Any) -> TypeGuard[sqlite3.Connection]:
    """Whether a DBAPI connection is the standard library's sqlite3."""
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Enforced foreign keys on every new SQLite connection."""
    if is_sqlite(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def begin_before_savepoint(conn: Connection, _name: str) -> None:
    """Open the real transaction a SAVEPOINT belongs in, if sqlite3 has not yet."""
    dbapi_connection = conn.connection.dbapi_connection
    if is_sqlite(dbapi_connection) and not dbapi_connection.in_transaction:
        # sqlite3 begins only before INSERT/UPDATE/DELETE. A SAVEPOINT outside a transaction
        # starts one of its own, and its RELEASE commits: new tags were committed even when
        # the post they came with was refused. IMMEDIATE: a savepoint here precedes a write,
        # and taking the write lock now waits for other writers (busy timeout) instead of
        # failing on a lock upgrade later.
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # through SQLAlchemy: a lock timeout is a 503


def sqlite_in_transaction(conn: Connection) -> bool:
    """Whether sqlite3 has begun a transaction on this connection (it begins only before a
    write, so a connection that has only read is outside one)."""
    driver_connection = conn.connection.driver_connection
    return driver_connection is not None and bool(driver_connection.in_transaction)
