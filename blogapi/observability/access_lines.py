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
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

import orjson

from blogapi.observability.background import CHORES
from blogapi.observability.logs import MILLISECONDS, AppHandler, JsonFormatter, second_text

BUFFER_LINES = 256
ACCESS_LOGGER = "blogapi.access"
access_log = logging.getLogger(ACCESS_LOGGER)
MAX_KINDS = 4096  # kinds of line whose fixed text a caller keeps
HUNDREDTHS = tuple(f".{n:02d}" for n in range(100))
# Durations under 10 ms, in hundredths of a millisecond, as the line writes them: most requests.
SHORT_DURATIONS = tuple(f"{n // 100}{HUNDREDTHS[n % 100]}" for n in range(1000))
# What a line says that is not its own: route, method, status, client, user id, replayed.
Kind = tuple[str, str, str, str | None, int | None, bool]
# What every line of a kind says: after the time, up to the request id's value; after it, up
# to the duration's.
Pieces = tuple[str, str]
# When it ended (time.perf_counter()), its request id, its seconds, its kind's pieces.
Entry = tuple[float, str, float, Pieces]


class AccessLines:
    """Requests waiting for their access line to be made and written to the app handler's
    stream."""

    def __init__(self, handler: AppHandler, stream: Any, fd: int) -> None:
        self.handler, self.stream, self.fd = handler, stream, fd
        # append and popleft are atomic: requests on other threads need no lock to add.
        self.pending: deque[Entry] = deque()
        handler.write_first = weakref.WeakMethod(self.flush)
        CHORES.add(self.flush)

    def add(self, ended: float, request_id: str, seconds: float, pieces: Pieces) -> None:
        """Note one request's line (`ended` is its time.perf_counter(): the wall clock is read
        once a batch; `pieces` are its kind's, kept by the caller); make and write them all
        once BUFFER_LINES wait."""
        pending = self.pending
        pending.append((ended, request_id, seconds, pieces))
        if len(pending) >= BUFFER_LINES:
            self.flush()

    def flush(self) -> None:
        """Make and write every waiting line, after whatever the handler's stream holds."""
        # The handler's lock first, as when the handler itself writes and calls this.
        with self.handler.lock or nullcontext():
            pending = self.pending
            count = len(pending)
            if not count:
                return
            entries = [pending.popleft() for _ in range(count)]
            # The level is checked a batch at a time: an operator turning the access log off
            # (or on) sees it take effect within a second.
            if not access_log.isEnabledFor(logging.INFO):
                return
            data = self.text(entries, time.time() - time.perf_counter()).encode()
            self.stream.flush()
            while data:
                data = data[os.write(self.fd, data) :]

    def text(self, entries: Iterable[Entry], wall_clock: float) -> str:
        """The requests' lines, key for key and value for value the JSON formatter's: the time,
        the request id and the duration set into the text of their kind of line. Encoding a whole
        dict, rounding a float and formatting the time were half of the layer's work per
        request. `wall_clock` turns a time.perf_counter() reading into time.time()'s."""
        parts: list[str] = []
        write = parts.extend
        second, second_of = -1, ""
        for ended, request_id, seconds, (head, middle) in entries:
            created = ended + wall_clock
            whole = int(created)
            if whole != second:
                second, second_of = whole, second_text(whole)
            hundredths = int(seconds * 100_000 + 0.5)  # of a millisecond
            write(
                (
                    '{"time":"',
                    second_of,
                    MILLISECONDS[int((created - whole) * 1000)],
                    head,
                    # An id is ours (hex) or a proxy's that request_ids.ACCEPTED let through:
                    # nothing in either needs escaping.
                    request_id,
                    middle,
                    SHORT_DURATIONS[hundredths]
                    if hundredths < 1000
                    else f"{hundredths // 100}{HUNDREDTHS[hundredths % 100]}",
                    "}\n",
                )
            )
        return "".join(parts)

    def pieces_of(self, kind: Kind) -> Pieces:
        """What every line of a kind says (for the caller to keep)."""
        route, method, status = kind[:3]
        message = orjson.dumps(f"{method} {route} {status}").decode()
        head = f'","level":"INFO","logger":"{ACCESS_LOGGER}","message":{message},"request_id":"'
        keys = access_fields(*kind)
        middle = '",' + orjson.dumps(keys).decode()[1:-1] + ',"duration_ms":'
        return head, middle


def access_fields(
    route: str, method: str, status: str, client: str | None, user_id: int | None, replayed: bool
) -> dict[str, Any]:
    """An access line's fields before its duration, in the order every access line has them."""
    fields: dict[str, Any] = {
        "method": method, "path": route, "status": status_number(status), "client": client
    }  # fmt: skip
    if user_id is not None:
        fields["user_id"] = user_id
    if replayed:
        fields["replayed"] = True
    return fields


def status_number(status: str) -> int:
    """An answer's status code as a number (500 when the server made it up)."""
    return int(status) if status.isdigit() else 500


def direct_access_lines() -> AccessLines | None:
    """When access lines would only reach the app's own JSON handler (production), the buffer
    that writes them; None otherwise (text lines, extra handlers, the test suite's capture),
    and logging writes them."""
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
