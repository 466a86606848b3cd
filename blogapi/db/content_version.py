"""The content version: bumped by database triggers (db/triggers.py) in every writing
transaction that changes what readers see, with the time of that change.

Every worker on every host reads it (one primary-key lookup) before trusting its in-memory
copy of a public response, so a write is visible to the very next read anywhere. That read is
most of what a cached response costs, so each thread keeps a connection of its own for it:
one statement, no pool checkout, no ping, no transaction (on PostgreSQL a fifth of the time).
"""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from blogapi.db.engine import db

QUERY = "SELECT value, changed_at FROM content_version WHERE id = 1"


class Version(NamedTuple):
    """The content version, and when it last changed (None before the first change)."""

    value: int
    changed_at: datetime | None


class Held(threading.local):
    """This thread's own connection for reading the version, and the engine it came from."""

    engine: Engine | None = None
    connection: Any = None


held = Held()
# Every thread's version connection, by engine: disposing of an engine closes them too (a
# database is dropped, or a worker lets go of it), as it closes the pool's.
held_by_engine: WeakKeyDictionary[Engine, list[Any]] = WeakKeyDictionary()
held_lock = threading.Lock()


def current_version() -> Version:
    """The content version as committed now (0 before the first write)."""
    return as_version(read_row(db.engine, QUERY, ()))


def shares_one_connection(engine: Engine) -> bool:
    """An in-memory SQLite database lives in one connection, which nothing may take away."""
    return isinstance(engine.pool, StaticPool | SingletonThreadPool)


def read_held(engine: Engine, query: str = QUERY, parameters: tuple[Any, ...] = ()) -> Any:
    """The first row of `query` (default: the version's), read on this thread's own connection
    (made, configured as the pool makes them, on first use, and kept in autocommit: each read
    sees the latest commit)."""
    if held.engine is not engine:
        forget_held()
        fairy = engine.raw_connection()
        fairy.detach()  # the pool's slots stay for requests
        connection = fairy.dbapi_connection
        assert connection is not None  # a connection just made
        engine.dialect.set_isolation_level(connection, "AUTOCOMMIT")
        held.engine, held.connection = engine, fairy
        keep(engine, fairy)
    cursor = held.connection.cursor()
    try:
        cursor.execute(query, parameters)
        return cursor.fetchone()
    finally:
        cursor.close()


def keep(engine: Engine, connection: Any) -> None:
    """Remember a version connection under its engine, to close when the engine is disposed."""
    with held_lock:
        if engine not in held_by_engine:
            held_by_engine[engine] = []
            event.listen(engine, "engine_disposed", close_all_held)
        held_by_engine[engine].append(connection)


def close_all_held(engine: Engine) -> None:
    """Close every thread's version connection to a disposed engine's database."""
    with held_lock:
        connections, held_by_engine[engine] = held_by_engine.get(engine, []), []
    for connection in connections:
        close_quietly(connection)


def close_quietly(connection: Any) -> None:
    """Close a detached connection, which closes the database connection itself."""
    with suppress(Exception):  # closing what is already broken may fail too
        connection.close()


def forget_held() -> None:
    """Close this thread's version connection (another engine's, or one that failed)."""
    engine, connection = held.engine, held.connection
    held.engine, held.connection = None, None
    if connection is None:
        return
    with held_lock:
        kept = held_by_engine.get(engine, []) if engine is not None else []
        if connection in kept:
            kept.remove(connection)
    close_quietly(connection)


def read_pooled_row(engine: Engine, query: str, parameters: tuple[Any, ...] = ()) -> Any:
    """The first row of a query read through a pooled connection, as every other statement is
    (its errors are SQLAlchemy's, which the app answers with a 503)."""
    with engine.connect() as connection:
        return connection.exec_driver_sql(query, parameters).first()


def read_row(engine: Engine, query: str, parameters: tuple[Any, ...]) -> Any:
    """The first row of a query, read as the version is: on this thread's own connection."""
    if shares_one_connection(engine):
        return read_pooled_row(engine, query, parameters)
    try:
        return read_held(engine, query, parameters)
    except Exception:  # a dropped connection: forget it, and ask the usual way
        forget_held()
        return read_pooled_row(engine, query, parameters)


def as_version(row: Any) -> Version:
    """The version's row as a Version (no row yet: version 0, never changed)."""
    if row is None:
        return Version(0, None)
    return Version(row[0] or 0, as_utc(row[1]))


def as_utc(stored: datetime | str | None) -> datetime | None:
    """A stored naive-UTC time (SQLite hands it over as text) as an aware UTC datetime."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return moment.replace(tzinfo=UTC)
