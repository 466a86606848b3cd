"""The database pool's gauges, kept current as connections are checked out and in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from blogapi.observability.metrics import DB_POOL

WATCHED = "_blogapi_pool_watched"


def watch_pool(engine: Engine) -> None:
    """Report the engine's connections in use and overflow at every checkout and checkin (a
    pool without a size, like SQLite's in-memory one, reports what it can)."""
    pool = engine.pool
    if getattr(pool, WATCHED, False):
        return
    setattr(pool, WATCHED, True)
    in_use = DB_POOL.labels("in_use")
    overflow = DB_POOL.labels("overflow")
    checked_out = getattr(pool, "checkedout", None)
    overflowed = getattr(pool, "overflow", None)

    def report(*_args: Any) -> None:
        if checked_out is not None:
            in_use.set(checked_out())
        if overflowed is not None:
            overflow.set(max(0, overflowed()))

    event.listen(pool, "checkout", report)
    event.listen(pool, "checkin", report)
