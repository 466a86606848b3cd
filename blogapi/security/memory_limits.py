"""Rate-limit counters in process memory (`memory://`), without a thread per counted request.

limits' MemoryStorage starts a `threading.Timer` after every hit whose previous timer has
finished (10 ms later), to drop expired counters: a new thread on almost every rate-limited
request, a tenth of a post write's time. This subclass takes over the `memory://` scheme and
sweeps on the request path instead, at most once a second. Correctness does not depend on the
sweep (expired counters are ignored when read); it only bounds the memory they hold.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """MemoryStorage whose expired entries are swept by the requests themselves."""

    STORAGE_SCHEME = ["memory"]  # registering the scheme again makes `memory://` this class

    next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:
        """Drop expired counters and windows, at most once every SWEEP_SECONDS."""
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
