"""The app's Prometheus metrics, and their text exposition.

Under gunicorn, gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before any worker imports this,
so every worker (and a webhook worker given the same folder) writes its samples to files there
and a scrape of any worker reads them all. Without it (a test, `flask run`) the metrics live in
this process. What the database knows (queue depth, media stored) is read at each scrape.
"""

from __future__ import annotations

import os
import struct
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    values,
)
from prometheus_client.core import Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest, start_http_server
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds: from a replayed read (well under a millisecond) to a slow export.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
TASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

disable_created_metrics()  # the *_created series: a sample per series nobody graphs

# Shared samples are filed under the writing process's id, which prometheus_client asks
# os.getpid() for at every increment: a system call each, several per request. The id is
# read once per process instead (again in a forked child).
_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def process_id() -> int:
    """This process's id, without a system call."""
    return _pid[0]


if os.environ.get(MULTIPROC_ENV):
    values.ValueClass = values.MultiProcessValue(process_identifier=process_id)

HTTP_DURATION = Histogram(
    "blogapi_http_request_duration_seconds",
    "Seconds to answer an HTTP request (until the app returned its body), by route, method "
    "and status; its _count is the number of requests answered.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "blogapi_http_requests_in_flight",
    "HTTP requests being answered now (each process's count as of its last second, the "
    "scraped process's as of the scrape).",
    multiprocess_mode="livesum",
)
CACHE_LOOKUPS = Counter(
    "blogapi_cache_lookups",
    "Response cache lookups: `replay` answers before Flask, `public` inside it; hit or miss.",
    ["cache", "result"],
)
SECURITY_EVENTS = Counter(
    "blogapi_security_events",
    "Audited security events by name: login_failed, rate_limited, refresh_token_reuse, ….",
    ["event"],
)
DB_POOL = Gauge(
    "blogapi_db_pool_connections",
    "Database pool connections checked out (in_use) and beyond the pool's size (overflow).",
    ["state"],
    multiprocess_mode="livesum",
)
WEBHOOK_ATTEMPTS = Counter(
    "blogapi_webhook_delivery_attempts",
    "Webhook delivery attempts by outcome: delivered, retrying, failed (no retry left).",
    ["outcome"],
)
MAIL_MESSAGES = Counter(
    "blogapi_mail_messages",
    "Mail send attempts by outcome: sent, retrying, failed (refused or no retry left), skipped.",
    ["outcome"],
)
WORKER_TASKS = Histogram(
    "blogapi_worker_task_duration_seconds",
    "Time a queue task took, by task and outcome (ok or error).",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
)


PACK_VALUE = struct.Struct("dd").pack  # a value and its timestamp, as prometheus_client writes them


class HotSeries:
    """A series written on every request, at a fraction of prometheus_client's cost. In
    multiprocess mode each of its writes takes a lock, checks the process id and looks the
    value's place in its file up; for the request histogram's two values that came to a third
    of the request layer's work. A hot series writes the same 16 bytes to the same place, as
    prometheus_client does (one slice assignment, so a scrape never reads half a value), under
    one lock, with the process id checked once per write and each value's place found once per
    process."""

    lock = threading.Lock()  # every hot series' writes: a value is read, added to and written

    def __init__(self, values: list[Any]) -> None:
        self.values = values  # prometheus_client's values, each of one sample of the series
        self.shared = bool(getattr(values[0], "_multiprocess", False))
        self.pid: int | None = None
        self.places: list[slice] = []

    def own_file(self) -> bool:
        """Whether the values are written to this process's shared file (multiprocess mode).
        At the first write in a process (or since a fork) prometheus_client's own read makes it
        open this process's file and put every value in it; the values' places are found then.
        A write checks `pid` itself first: when it is this process's, the places are known."""
        if not self.shared:
            return False
        if self.pid != _pid[0]:
            self.values[0].get()
            self.places = [slice(at, at + 16) for at in map(place_of, self.values)]
            self.pid = _pid[0]
        return True


def place_of(value: Any) -> int:
    """Where a value sits in its file: prometheus_client put every value there as it made it
    (or, after a fork, as its read opened this process's file)."""
    return int(value._file._positions[value._key])


class HistogramSeries(HotSeries):
    """One series of a histogram, observed on every request."""

    def __init__(self, child: Any) -> None:
        super().__init__([child._sum, *child._buckets])
        self.bounds = child._upper_bounds

    def observe(self, seconds: float) -> None:
        """Count one observation of `seconds`."""
        index = bisect_left(self.bounds, seconds) + 1  # the first bound >= it, after the sum
        values = self.values
        if self.pid != _pid[0] and not self.own_file():
            values[0].inc(seconds)
            values[index].inc(1)
            return
        places, total, bucket = self.places, values[0], values[index]
        with self.lock:
            total._value += seconds
            total._file._m[places[0]] = PACK_VALUE(total._value, 0.0)
            bucket._value += 1
            bucket._file._m[places[index]] = PACK_VALUE(bucket._value, 0.0)


class CounterSeries(HotSeries):
    """One series of a counter, counted on every request."""

    def __init__(self, child: Any) -> None:
        super().__init__([child._value])

    def inc(self) -> None:
        """Count one."""
        value = self.values[0]
        if self.pid != _pid[0] and not self.own_file():
            value.inc(1)
            return
        with self.lock:
            value._value += 1
            value._file._m[self.places[0]] = PACK_VALUE(value._value, 0.0)


@contextmanager
def timed_task(name: str) -> Iterator[None]:
    """Time a queue task into WORKER_TASKS, as ok or error."""
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        WORKER_TASKS.labels(name, outcome).observe(time.perf_counter() - started)


def multiprocess_dir() -> str | None:
    """The folder every process writes its samples to, when metrics are shared."""
    return os.environ.get(MULTIPROC_ENV) or None


class Joined(Collector):
    """A registry-like view: this process's (or every process's) metrics, then `extra`."""

    def __init__(self, collect_extra: Iterable[Callable[[], Iterable[Metric]]]) -> None:
        self.collect_extra = list(collect_extra)

    def collect(self) -> Iterator[Metric]:
        """Every metric family to expose."""
        folder = multiprocess_dir()
        if folder is None:
            yield from REGISTRY.collect()
        else:
            from prometheus_client.multiprocess import MultiProcessCollector

            yield from MultiProcessCollector(None, path=folder).collect()
        for collect in self.collect_extra:
            yield from collect()


def exposition(collect_extra: Iterable[Callable[[], Iterable[Metric]]] = ()) -> bytes:
    """The Prometheus text format of every metric, with what `collect_extra` reads now."""
    joined: Any = Joined(collect_extra)  # generate_latest only calls .collect()
    return generate_latest(joined)


def serve_metrics(port: int, address: str) -> None:
    """Answer GET /metrics on address:port from a thread (a process that serves no HTTP, the
    webhook worker, on a host of its own)."""
    start_http_server(port, address, registry=Joined([]))


def forget_process(pid: int) -> None:
    """Drop a dead process's live gauges (gunicorn's child_exit hook calls this)."""
    if multiprocess_dir() is not None:
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(pid)
