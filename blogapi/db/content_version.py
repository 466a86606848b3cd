"""The content version: bumped by database triggers (db/triggers.py) in every writing
transaction that changes what readers see, with the time of that change.

Every worker on every host reads it (one primary-key lookup) before trusting its in-memory
copy of a public response, so a write is visible to the very next read anywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from blogapi.db.engine import db

QUERY = "SELECT value, changed_at FROM content_version WHERE id = 1"


class Version(NamedTuple):
    """The content version, and when it last changed (None before the first change)."""

    value: int
    changed_at: datetime | None


def current_version() -> Version:
    """The content version as committed now (0 before the first write).

    A short connection of its own, not the request's session: a cache hit then never opens a
    session transaction (and skips its rollback), which halves the cost of the check.
    """
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql(QUERY).first()
    if row is None:
        return Version(0, None)
    return Version(row[0] or 0, as_utc(row[1]))


def as_utc(stored: datetime | str | None) -> datetime | None:
    """A stored naive-UTC time (SQLite hands it over as text) as an aware UTC datetime."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    return moment.replace(tzinfo=UTC)
