"""The scale test seen from the instances: their /metrics, read at each phase boundary.

Each instance (a gunicorn master) keeps its workers' samples in a folder of its own, and one
scrape of any of its workers reports them all, a killed worker's counts included. So every
instance is scraped, all at once, and the figures summed; what two scrapes differ by is what
the instances answered between them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import requests
from prometheus_client.parser import text_string_to_metric_families

REQUESTS = "blogapi_http_request_duration_seconds_count"
DURATION_BUCKET = "blogapi_http_request_duration_seconds_bucket"
IN_FLIGHT = "blogapi_http_requests_in_flight"
# What the harness itself sends the instances, by the route template they count it under.
SCRAPE_ROUTE = "/metrics"
HEALTH_ROUTE = "/api/v1/health"
HARNESS_ROUTES = frozenset({SCRAPE_ROUTE, HEALTH_ROUTE})
SCRAPE_TIMEOUT = 30  # a sync worker answers the scrape after the requests queued before it


@dataclass
class Scrape:
    """One instance's request counters as one scrape read them."""

    requests: Counter[tuple[str, str]]  # (route, status) -> answers counted
    buckets: Counter[tuple[str, float]]  # (route, bucket's upper bound) -> answers that fast
    in_flight: float = 0.0  # being answered when read, this scrape included
    answered_at: float = 0.0  # monotonic time its answer arrived
    scrapes_before: int = 0  # scrapes of this instance answered before this one
    unanswered_before: int = 0  # and scrapes of it that got no answer


def parse(text: str) -> Scrape:
    """The request counters of one /metrics answer (Prometheus text format)."""
    counts: Counter[tuple[str, str]] = Counter()
    buckets: Counter[tuple[str, float]] = Counter()
    in_flight = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == REQUESTS:
                counts[labels["route"], labels["status"]] += round(sample.value)
            elif sample.name == DURATION_BUCKET:
                buckets[labels["route"], float(labels["le"])] += round(sample.value)
            elif sample.name == IN_FLIGHT:
                in_flight += sample.value
    return Scrape(counts, buckets, in_flight)


class Scraper:
    """Reads every instance's /metrics at once, and counts the scrapes each one was sent."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.answered = [0] * len(urls)
        self.failed = [0] * len(urls)  # no answer: the instance may or may not have counted it

    def scrape_all(self) -> list[Scrape | None]:
        """Every instance's scrape (None where one failed), taken in parallel."""
        found: list[Scrape | None] = [None] * len(self.urls)

        def one(index: int) -> None:
            try:
                response = requests.get(f"{self.urls[index]}/metrics", timeout=SCRAPE_TIMEOUT)
            except requests.RequestException:
                self.failed[index] += 1
                return
            self.answered[index] += 1
            if response.status_code == 200:
                scrape = parse(response.text)
                scrape.answered_at = time.monotonic()
                scrape.scrapes_before = self.answered[index] - 1
                scrape.unanswered_before = self.failed[index]
                found[index] = scrape

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(self.urls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return found


@dataclass
class Window:
    """What the instances answered between two sets of scrapes, summed over instances."""

    statuses: Counter[str] = field(default_factory=Counter)  # client traffic, by status
    buckets: Counter[float] = field(default_factory=Counter)  # client traffic, cumulative
    harness: Counter[str] = field(default_factory=Counter)  # route -> the harness's requests

    @property
    def requests(self) -> int:
        """Client requests answered."""
        return sum(self.statuses.values())


def between(earlier: Iterable[Scrape], later: Iterable[Scrape]) -> Window:
    """What the instances counted between two scrapes of each, the harness's own requests
    (scrapes, health checks) set apart by route."""
    window = Window()
    for before, after in zip(earlier, later, strict=True):
        for (route, status), count in (after.requests - before.requests).items():
            if route in HARNESS_ROUTES:
                window.harness[route] += count
            else:
                window.statuses[status] += count
        for (route, bound), count in (after.buckets - before.buckets).items():
            if route not in HARNESS_ROUTES:
                window.buckets[bound] += count
    return window


def status_class(status: str) -> str:
    """The report's column for a status: 2xx, 4xx, 503, 500, or other."""
    if status in ("500", "503"):
        return status
    if status[:1] in ("2", "4") and len(status) == 3:
        return f"{status[0]}xx"
    return "other"


def bucket_quantile(buckets: Counter[float], fraction: float) -> float | None:
    """Seconds under which `fraction` of the answers fell, estimated from cumulative histogram
    buckets as Prometheus's histogram_quantile does: linear within the bucket the rank falls
    in, or the highest finite bound if that bucket is +Inf. None with no answers."""
    total = buckets.get(math.inf, 0)
    if total <= 0:
        return None
    rank = fraction * total
    lower, below = 0.0, 0
    for bound in sorted(buckets):
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower
