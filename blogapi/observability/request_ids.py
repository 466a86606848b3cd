"""Request ids: taken from a trusted proxy's X-Request-Id or made here, and known to every log
line and problem body of the request (and to the webhook work it causes)."""

from __future__ import annotations

import itertools
import os
import re
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
COUNT_MASK = (1 << 64) - 1
COUNT_MARK = 1 << 64  # a leading 1 that fixes hex()'s width at 17 digits, cut off with "0x"

_current: ContextVar[str | None] = ContextVar("blogapi_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or the job it caused) being handled now, if any."""
    return _current.get()


class RequestIds:
    """Ids unique across processes and hosts without a system call or a lock each: 64 random
    bits drawn once per process (again in a forked child), then the process's own count."""

    def __init__(self) -> None:
        self.forget()
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        """Draw a new prefix: a forked child must not repeat its parent's ids."""
        self.prefix = os.urandom(8).hex()
        self.count = itertools.count()  # next() on it is atomic: threads never share a number

    def next(self) -> str:
        """A new id: 32 hex digits."""
        # hex() is a third cheaper than a format spec's padding, on every request.
        return self.prefix + hex(next(self.count) & COUNT_MASK | COUNT_MARK)[3:]


_ids = RequestIds()


def new_request_id() -> str:
    """A fresh id: 32 hex digits."""
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
