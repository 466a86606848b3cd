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
from blogapi.observability.logs import AppHandler, JsonFormatter, line_fields

BUFFER_LINES = 256
ACCESS_LOGGER = "blogapi.access"
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
        self.messages: dict[Series, str] = {}
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
        """One request's line, key for key the JSON formatter's."""
        created, series, request_id, seconds, client, user_id, replayed = entry
        message = self.messages.get(series)
        if message is None:
            message = self.messages[series] = "{1} {0} {2}".format(*series)
        route, method, status = series
        fields: dict[str, Any] = {
            "method": method,
            "path": route,
            "status": status_number(status),
            "duration_ms": round(seconds * 1000, 2),
            "client": client,
        }
        if user_id is not None:
            fields["user_id"] = user_id
        if replayed:
            fields["replayed"] = True
        line = line_fields(created, "INFO", ACCESS_LOGGER, message, request_id, fields)
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


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
