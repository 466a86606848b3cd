"""Request ids: taken from a trusted proxy's X-Request-Id or made here, and known to every log
line and problem body of the request (and to the webhook work it causes)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

HEADER = "X-Request-Id"
ENVIRON_HEADER = "HTTP_X_REQUEST_ID"
ENVIRON_KEY = "blogapi.request_id"
# What a proxy's id may look like: UUIDs, hex, nginx's $request_id, AWS's Root=1-… ids. Anything
# else (too long, spaces, CR/LF, quotes) is replaced by our own, so a log line cannot be forged.
ACCEPTED = re.compile(r"[A-Za-z0-9._:;=+/@-]{1,128}\Z")
MAX_LENGTH = 128

_current: ContextVar[str | None] = ContextVar("blogapi_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or the job it caused) being handled now, if any."""
    return _current.get()


class RandomIds:
    """Random 128-bit ids, their bytes read from the system 256 ids at a time (one system
    call a request was a measurable part of a replayed read); a forked child reads its own."""

    BATCH = 256

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool = b""
        self.used = 0
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        """Drop the bytes a parent read: its children must not repeat its ids."""
        self.pool, self.used = b"", 0
        self.lock = threading.Lock()

    def next(self) -> str:
        """A new id: 32 hex digits."""
        with self.lock:
            if self.used == len(self.pool):
                self.pool, self.used = os.urandom(16 * self.BATCH), 0
            start = self.used
            self.used += 16
            return self.pool[start : start + 16].hex()


_ids = RandomIds()


def new_request_id() -> str:
    """A fresh random id: 32 hex digits."""
    return _ids.next()


def request_id_for(environ: dict[str, Any], trust_header: bool) -> str:
    """The proxy's X-Request-Id when proxies are trusted and it is well formed, else a new id."""
    if trust_header:
        offered = environ.get(ENVIRON_HEADER)
        if offered and ACCEPTED.match(offered):
            return str(offered)
    return new_request_id()


def bind(request_id: str | None) -> Any:
    """Make `request_id` current; returns the token `unbind` takes."""
    return _current.set(request_id)


def unbind(token: Any) -> None:
    """Restore the id that was current before `bind`."""
    _current.reset(token)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Make `request_id` current inside the block (a worker handling what a request caused)."""
    token = bind(request_id)
    try:
        yield
    finally:
        unbind(token)
