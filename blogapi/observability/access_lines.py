"""Production's access lines, written by the request layer itself in the JSON formatter's
shape. A request only notes what its line will say; the lines are made and written out
together, in one system call. Through logging's record, dispatch and formatter a line cost a
fifth of a replayed read, a write of its own each a tenth, and even a line made at once, in
the gunicorn worker between the socket's work, cost four times what it costs made among others.

Lines go out when BUFFER_LINES wait, at each round of the process's chores (a second
apart), before any line the app's own handler writes (so the file reads in order), and at exit,
as nginx's `access_log … buffer=… flush=…` does. A worker killed outright (SIGKILL, the OOM
killer) loses the lines of its last second.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections import deque
from contextlib import nullcontext
from typing import Any

import orjson

from blogapi.observability.background import CHORES
from blogapi.observability.logs import AppHandler, JsonFormatter, timestamp

BUFFER_LINES = 256
ACCESS_LOGGER = "blogapi.access"
MAX_CLIENTS = 4096  # client addresses whose quoted form is kept
HUNDREDTHS = tuple(f".{n:02d}" for n in range(100))
Series = tuple[str, str, str]  # route, method, status
# When, which series, request id, seconds, client, user id, replayed.
Entry = tuple[float, Series, str | None, float, str | None, int | None, bool]


class AccessLines:
    """Requests waiting for their access line to be made and written to the app handler's
    stream."""

    def __init__(self, handler: AppHandler, stream: Any, fd: int) -> None:
        self.handler, self.stream, self.fd = handler, stream, fd
        # append and popleft are atomic: requests on other threads need no lock to add.
        self.pending: deque[Entry] = deque()
        self.pieces: dict[Series, tuple[str, str]] = {}
        self.clients: dict[str | None, str] = {}
        handler.write_first = weakref.WeakMethod(self.flush)
        CHORES.add(self.flush)

    def add(
        self,
        series: Series,
        request_id: str | None,
        seconds: float,
        client: str | None,
        user_id: int | None,
        replayed: bool,
    ) -> None:
        """Note one request's line; make and write them all once BUFFER_LINES wait."""
        self.pending.append((time.time(), series, request_id, seconds, client, user_id, replayed))
        if len(self.pending) >= BUFFER_LINES:
            self.flush()

    def flush(self) -> None:
        """Make and write every waiting line, after whatever the handler's stream holds."""
        # The handler's lock first, as when the handler itself writes and calls this.
        with self.handler.lock or nullcontext():
            pending = self.pending
            count = len(pending)
            if not count:
                return
            data = b"".join(self.line(pending.popleft()) for _ in range(count))
            self.stream.flush()
            while data:
                data = data[os.write(self.fd, data) :]

    def line(self, entry: Entry) -> bytes:
        """One request's line, key for key and value for value the JSON formatter's, made from
        pieces kept per series and per client: encoding a whole dict, rounding a float and
        formatting the time were half of the layer's work per request."""
        created, series, request_id, seconds, client, user_id, replayed = entry
        head, middle = self.pieces.get(series) or self.pieces_of(series)
        quoted = self.clients.get(client) or self.client_of(client)
        hundredths = int(seconds * 100_000 + 0.5)  # of a millisecond
        return "".join(
            (
                '{"time":"',
                timestamp(created),
                head,
                # An id is ours (hex) or a proxy's that request_ids.ACCEPTED let through:
                # nothing in either needs escaping.
                f'"request_id":"{request_id}",' if request_id is not None else "",
                middle,
                str(hundredths // 100),
                HUNDREDTHS[hundredths % 100],
                quoted,
                f',"user_id":{user_id}' if user_id is not None else "",
                ',"replayed":true}\n' if replayed else "}\n",
            )
        ).encode()

    def pieces_of(self, series: Series) -> tuple[str, str]:
        """What every line of a series says: after the time, up to the request id; after it,
        up to the duration."""
        route, method, status = series
        message = orjson.dumps(f"{method} {route} {status}").decode()
        head = f'","level":"INFO","logger":"{ACCESS_LOGGER}","message":{message},'
        keys = {"method": method, "path": route, "status": status_number(status)}
        middle = orjson.dumps(keys).decode()[1:-1] + ',"duration_ms":'
        self.pieces[series] = head, middle
        return head, middle

    def client_of(self, client: str | None) -> str:
        """The client's key and value, quoted (kept for the next line from it)."""
        if len(self.clients) >= MAX_CLIENTS:
            self.clients.clear()
        quoted = self.clients[client] = ',"client":' + orjson.dumps(client).decode()
        return quoted


def status_number(status: str) -> int:
    """An answer's status code as a number (500 when the server made it up)."""
    return int(status) if status.isdigit() else 500


def direct_access_lines() -> AccessLines | None:
    """When access lines would only reach the app's own JSON handler (production), the buffer
    that writes them; None otherwise (text lines, extra handlers, the test suite's capture),
    and logging writes them."""
    access_log = logging.getLogger(ACCESS_LOGGER)
    parent = logging.getLogger("blogapi")
    if access_log.handlers or access_log.filters or not access_log.propagate:
        return None
    if parent.propagate or parent.filters or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if not isinstance(handler, AppHandler) or type(handler.formatter) is not JsonFormatter:
        return None
    stream: Any = handler.stream
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file
        return None
    return AccessLines(handler, stream, fd)
