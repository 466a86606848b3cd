"""The database pool's gauges: connections checked out and beyond the pool's size, read from
the pool by the process's chores each round and by each scrape, not at every checkout and
checkin (four writes to the shared metrics file a request that touched the database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from blogapi.observability.background import CHORES
from blogapi.observability.metrics import DB_POOL

WATCHED = "_blogapi_pool_gauges"


class PoolGauges:
    """One engine's pool and the gauges it is published to."""

    def __init__(self, pool: Any) -> None:
        self.checked_out = getattr(pool, "checkedout", None)
        self.overflowed = getattr(pool, "overflow", None)  # a pool without a size has none
        self.in_use = DB_POOL.labels("in_use")
        self.overflow = DB_POOL.labels("overflow")
        self.published: tuple[int | None, int | None] | None = None
        CHORES.add(self.publish)

    def publish(self) -> None:
        """Write what the pool holds now to the gauges, if it changed since the last time."""
        in_use = self.checked_out() if self.checked_out is not None else None
        overflow = max(0, self.overflowed()) if self.overflowed is not None else None
        if (in_use, overflow) == self.published:
            return
        if in_use is not None:
            self.in_use.set(in_use)
        if overflow is not None:
            self.overflow.set(overflow)
        self.published = (in_use, overflow)


def watch_pool(engine: Engine) -> None:
    """Publish the engine's pool to the gauges from now on (kept while the pool lives)."""
    pool = engine.pool
    if getattr(pool, WATCHED, None) is None:
        gauges = PoolGauges(pool)
        setattr(pool, WATCHED, gauges)  # the chores hold it weakly
        gauges.publish()  # the labels appear at once, before the first round
