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
# Ids count up from a random start whose top bit is set, so hex() always gives 32 digits.
TOP_BIT = 1 << 127

# The id of the request (or job) being handled: set and reset by the request layer itself,
# through bind and unbind by everything else.
CURRENT_REQUEST_ID: ContextVar[str | None] = ContextVar("blogapi_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or the job it caused) being handled now, if any."""
    return CURRENT_REQUEST_ID.get()


class RequestIds:
    """Ids unique across processes and hosts without a system call or a lock each: a process
    (and again a forked child) counts up from a random 128-bit number. Two processes' ids
    would meet only if their starts fell within as many requests of each other, one chance
    in about 2**126 / requests."""

    def __init__(self) -> None:
        self.forget()
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        """Draw a new start: a forked child must not repeat its parent's ids."""
        # Below the top bit, 126 random bits: a count would need 2**126 ids to reach 33 digits.
        start = TOP_BIT | int.from_bytes(os.urandom(16), "big") >> 2
        self.count = itertools.count(start)  # next() on it is atomic: no two threads share one


_ids = RequestIds()


def new_request_id() -> str:
    """A fresh id: 32 hex digits."""
    return hex(next(_ids.count))[2:]


def proxy_request_id(environ: dict[str, Any]) -> str:
    """The trusted proxy's X-Request-Id when it is well formed, else a new id."""
    offered = environ.get(ENVIRON_HEADER)
    if offered and ACCEPTED.match(offered):
        return str(offered)
    return new_request_id()


def bind(request_id: str | None) -> Any:
    """Make `request_id` current; returns the token `unbind` takes."""
    return CURRENT_REQUEST_ID.set(request_id)


def unbind(token: Any) -> None:
    """Restore the id that was current before `bind`."""
    CURRENT_REQUEST_ID.reset(token)


@contextmanager
def request_id_bound(request_id: str | None) -> Iterator[None]:
    """Make `request_id` current inside the block (a worker handling what a request caused)."""
    token = bind(request_id)
    try:
        yield
    finally:
        unbind(token)
