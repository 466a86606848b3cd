"""What the load clients were told: every acknowledged write, and every outcome per phase."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

NO_ANSWER = "network"  # the status of a request that got no HTTP answer


@dataclass
class PostRecord:
    """What a client knows about one of its posts."""

    id: int
    acked: dict  # title, body, published, as of the last acknowledged write
    # Contents of writes whose outcome is unknown (network error, 503 after commit…):
    maybe: list[dict] = field(default_factory=list)
    deleted: bool = False


class Ledger:
    """Thread-safe record of outcomes, latencies and acknowledged state."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.phase = "warm-up"
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.posts: dict[int, PostRecord] = {}
        self.logged_out_tokens: list[str] = []
        self.registered: list[str] = []
        # Every request's [instance, sent, answered]: when the instances' metrics were read,
        # which requests were in flight. One without an answer stays open (answered = inf).
        self.spans: list[list[float]] = []

    def enter(self, phase: str) -> float:
        """Start a new phase of the run; the moment it started."""
        with self.lock:
            now = time.monotonic()
            self.ended[self.phase] = now
            self.phase = phase
            self.started[phase] = now
            return now

    def begin(self, instance: int) -> tuple[int, str]:
        """A request is about to go to `instance`: its ticket, and the phase it counts in."""
        with self.lock:
            # Taken under the lock enter() takes, so a request counts in a phase if and only
            # if it was sent after that phase's start.
            self.spans.append([instance, time.monotonic(), math.inf])
            return len(self.spans) - 1, self.phase

    def outcome(
        self, phase: str, action: str, status: int | str, millis: float, ticket: int | None = None
    ) -> None:
        """Count one request's outcome in the phase it started in."""
        with self.lock:
            self.statuses[phase][f"{action} {status}"] += 1
            self.statuses[phase][f"status {status}"] += 1
            self.latencies[phase].append(millis)
            if ticket is not None and status != NO_ANSWER:
                self.spans[ticket][2] = time.monotonic()

    def in_flight(self, instance: int, since: float, until: float) -> int:
        """Requests to `instance` in flight at some moment from `since` to `until`: sent
        before `until`, answered after `since` (or never)."""
        with self.lock:
            return sum(
                1
                for target, sent, answered in self.spans
                if target == instance and sent < until and answered > since
            )

    def acked_post(self, post_id: int, state: dict) -> None:
        """A 201/200 told the client this is the post's content now."""
        with self.lock:
            record = self.posts.get(post_id)
            if record is None:
                self.posts[post_id] = PostRecord(post_id, dict(state))
            else:
                record.acked = dict(state)
                record.maybe.clear()

    def maybe_post(self, post_id: int, state: dict) -> None:
        """A write whose outcome is unknown: the post may now hold this content."""
        with self.lock:
            if post_id in self.posts:
                self.posts[post_id].maybe.append(dict(state))

    def acked_delete(self, post_id: int) -> None:
        """A 204 told the client the post is gone."""
        with self.lock:
            if post_id in self.posts:
                self.posts[post_id].deleted = True

    def acked_logout(self, token: str) -> None:
        """A 204 told the client this access token is revoked."""
        with self.lock:
            self.logged_out_tokens.append(token)
