"""The content version: bumped by database triggers (dbtriggers.py) in every writing
transaction that changes what readers see.

Every worker on every host reads it (one primary-key lookup) before trusting its in-memory
copy of a public response, so a write is visible to the very next read anywhere.
"""

from __future__ import annotations

from blogapi.db.engine import db

QUERY = "SELECT value FROM content_version WHERE id = 1"


def current_version() -> int:
    """The content version as committed now (0 before the first write).

    A short connection of its own, not the request's session: a cache hit then never opens a
    session transaction (and skips its rollback), which halves the cost of the check.
    """
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(QUERY).scalar() or 0
