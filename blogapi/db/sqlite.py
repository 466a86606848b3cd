"""SQLite connections that behave like PostgreSQL where the API relies on it."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any, TypeGuard

from sqlalchemy import Connection, Engine, event


def is_sqlite(dbapi_connection: Any) -> TypeGuard[sqlite3.Connection]:
    """Whether a DBAPI connection is the standard library's sqlite3."""
    return type(dbapi_connection).__module__.startswith("sqlite3")


PRIVATE_FILE = 0o600  # the database holds password hashes
PRIVATE_FOLDER = 0o700  # the instance folder: the database and generated secrets


def create_private_database(filename: str) -> None:
    """Make a missing database file readable by its owner only.

    sqlite3 would create it with the umask's mode (0644); its -wal, -shm and -journal files
    copy the database file's mode. A file that exists is left as its operator made it, and a
    missing folder stays missing: that is a lost database (503), never one made anew.
    """
    path = Path(filename)
    if path.exists() or not path.parent.is_dir():
        return
    # OSError: made meanwhile by another connection, or sqlite3 says in its own words what fails.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def make_instance_folder(database: str | None, instance_path: str) -> None:
    """Create the instance folder, owner-only, when the SQLite database is to live in it."""
    if database and Path(database).parent == Path(instance_path):
        Path(instance_path).mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)


@event.listens_for(Engine, "do_connect")
def private_sqlite_file(dialect: Any, _record: Any, cargs: list[Any], cparams: Any) -> None:
    """Before sqlite3 opens a database file, create it private if it does not exist yet."""
    if dialect.name != "sqlite" or cparams.get("uri") or not cargs:
        return
    if isinstance(cargs[0], str) and cargs[0] not in ("", ":memory:"):
        create_private_database(cargs[0])


@event.listens_for(Engine, "connect")
def configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """Enforced foreign keys on every new SQLite connection."""
    if is_sqlite(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


SYNCHRONOUS_LEVELS = ("NORMAL", "FULL")


def write_ahead_logging(engine: Engine, synchronous: str) -> None:
    """Open this engine's SQLite connections in WAL mode with the given `synchronous` level."""
    if engine.dialect.name == "sqlite" and synchronous in SYNCHRONOUS_LEVELS:
        event.listen(
            engine, "connect", lambda connection, _record: use_wal(connection, synchronous)
        )


def use_wal(dbapi_connection: Any, synchronous: str) -> None:
    """WAL: readers never wait for the writer, and a commit appends to the log. NORMAL syncs
    the log at checkpoints rather than at each commit: the database is never corrupted, but
    a power cut (not a crash of the process) may lose the last commits (DEPLOY.md)."""
    if not is_sqlite(dbapi_connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        # Switching needs the file to itself: a database another process holds stays as it is
        # until a later connection switches it (WAL is a property of the file, kept).
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
    finally:
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


def take_sqlite_write_lock(conn: Connection) -> None:
    """On SQLite, begin now with the database's write lock held (it has no row locks)."""
    if conn.dialect.name == "sqlite" and not sqlite_in_transaction(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
