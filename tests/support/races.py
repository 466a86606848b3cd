"""Two gunicorn instances on one database, and a barrier that makes their clients collide."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import Engine, create_engine, text

from devtools.live import LiveServer
from tests.support.accounts import PASSWORD, bearer

TIMEOUT = 30

# Posts whose newest revision is not what they hold now, and revisions without their post: a
# write recorded by halves. Every content write adds its revision in the same transaction.
HALF_WRITTEN = """
SELECT 'post', p.id FROM posts p
LEFT JOIN post_revisions r ON r.post_id = p.id
    AND r.number = (SELECT max(number) FROM post_revisions WHERE post_id = p.id)
WHERE r.id IS NULL OR r.title <> p.title OR r.slug <> p.slug OR r.summary <> p.summary
UNION ALL
SELECT 'revision', r.post_id FROM post_revisions r
WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = r.post_id)
"""


@dataclass
class Writer:
    """A registered, logged-in account as its client holds it."""

    username: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header for the access token."""
        return bearer(self.access_token)


def race(calls: Sequence[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call on its own thread, all released at the same moment by a barrier."""
    barrier = threading.Barrier(len(calls))

    def fire(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=TIMEOUT)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(fire, calls))


def statuses(responses: Sequence[requests.Response]) -> Counter[int]:
    """How many responses had each status code."""
    return Counter(response.status_code for response in responses)


def server_errors(responses: Sequence[requests.Response]) -> list[str]:
    """The 5xx answers, with their bodies, for an assertion message."""
    return [f"{r.status_code} {r.text[:300]}" for r in responses if r.status_code >= 500]


class Cluster:
    """Instances A and B sharing one database, plus a direct connection for checking it."""

    def __init__(self, backend: str, url: str, servers: list[LiveServer]) -> None:
        self.backend = backend
        self.url = url
        self.servers = servers
        self.engine: Engine = create_engine(url)
        self._serial = 0

    def api(self, n: int) -> str:
        """The API base of instance n (mod 2): even is A, odd is B."""
        return self.servers[n % len(self.servers)].api

    def sql(self, query: str, **params: Any) -> list[Any]:
        """Rows of a query run directly on the database, as an operator would."""
        with self.engine.connect() as conn:
            return list(conn.execute(text(query), params))

    def scalar(self, query: str, **params: Any) -> Any:
        """The single value of a query run directly on the database."""
        with self.engine.connect() as conn:
            return conn.execute(text(query), params).scalar()

    def execute(self, statement: str, **params: Any) -> None:
        """Run one write directly on the database and commit it, as an operator would."""
        with self.engine.begin() as conn:
            conn.execute(text(statement), params)

    def account(self, role: str = "author") -> Writer:
        """Register on A, set the role directly in the database, log in on B."""
        self._serial += 1
        name = f"{role}{self._serial}"
        payload = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        created = requests.post(f"{self.api(0)}/auth/register", json=payload, timeout=TIMEOUT)
        assert created.status_code == 201, created.text
        self.execute("UPDATE users SET role = :r WHERE username = :u", r=role, u=name)
        return self.login(name, 1)

    def login(self, username: str, instance: int, password: str = PASSWORD) -> Writer:
        """Log in on one instance."""
        pair = requests.post(
            f"{self.api(instance)}/auth/login",
            json={"username": username, "password": password},
            timeout=TIMEOUT,
        )
        assert pair.status_code == 200, pair.text
        body = pair.json()
        return Writer(username, body["access_token"], body["refresh_token"])

    def create_post(self, writer: Writer, instance: int = 0, **fields: Any) -> dict[str, Any]:
        """A new draft, created through the API; returns the post with its ETag."""
        payload = {"title": "A post", "body": "Some *Markdown*.", **fields}
        created = requests.post(
            f"{self.api(instance)}/posts", json=payload, headers=writer.headers, timeout=TIMEOUT
        )
        assert created.status_code == 201, created.text
        return {**created.json(), "etag": created.headers["ETag"]}

    @contextmanager
    def writes_held(self, user_id: int) -> Iterator[None]:
        """Hold the database so a request that writes for this user stops mid-way."""
        with self.engine.connect() as conn:
            if self.backend == "sqlite":
                # SQLite has one writer: the request waits (busy timeout) before its first write.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                # The post's foreign key check waits for this row: the request stops after
                # writing its tags and the post row, before post_tags and COMMIT.
                conn.execute(
                    text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": user_id}
                )
            try:
                yield
            finally:
                conn.rollback()

    @contextmanager
    def inserts_held(self, table: str) -> Iterator[None]:
        """Hold the database so a request stops at its INSERT into `table`, uncommitted: a
        content write after its post row and tag links (post_revisions), an upload after
        storing its files (media)."""
        with self.engine.connect() as conn:
            if self.backend == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # as in writes_held: before any write
            else:
                conn.exec_driver_sql(f"LOCK TABLE {table} IN SHARE MODE")  # reads go on
            try:
                yield
            finally:
                conn.rollback()

    def killed_mid_request(
        self,
        instance: int,
        call: Callable[[], requests.Response],
        held: AbstractContextManager[None],
    ) -> str:
        """Send the call to an instance while `held` stops its write, kill that instance's
        workers (SIGKILL) and wait until it serves again; the statement it stopped in."""
        outcome: list[object] = []

        def send() -> None:
            try:
                outcome.append(call())
            except requests.RequestException as exc:
                outcome.append(exc)

        with held:
            thread = threading.Thread(target=send)
            thread.start()
            blocked_in = self.wait_for_lock_waiter()
            for pid in self.servers[instance].worker_pids():
                os.kill(pid, signal.SIGKILL)
            thread.join(TIMEOUT)
        assert len(outcome) == 1 and isinstance(outcome[0], requests.ConnectionError), outcome
        self.wait_healthy(instance)
        return blocked_in

    def half_written(self) -> list[tuple[str, int]]:
        """Posts and revisions that one write left by halves (HALF_WRITTEN); none, always."""
        return [(kind, post_id) for kind, post_id in self.sql(HALF_WRITTEN)]

    def revision_numbers(self, post_id: int) -> list[int]:
        """The numbers of a post's revisions, in order."""
        query = "SELECT number FROM post_revisions WHERE post_id = :id ORDER BY number"
        return [number for (number,) in self.sql(query, id=post_id)]

    def listed(self, writer: Writer, instance: int = 0) -> list[int]:
        """The ids of every post the writer's list shows them, drafts included."""
        page = requests.get(
            f"{self.api(instance)}/posts",
            params={"status": "all", "author": writer.username, "per_page": 100},
            headers=writer.headers,
            timeout=TIMEOUT,
        )
        assert page.status_code == 200, page.text
        return [item["id"] for item in page.json()["items"]]

    def wait_for_lock_waiter(self, timeout: float = 10) -> str:
        """The statement a request is blocked in (PostgreSQL); SQLite cannot say, so wait."""
        if self.backend == "sqlite":
            time.sleep(1.0)
            return ""
        deadline = time.monotonic() + timeout
        # A row's query comes from a snapshot taken as the view is read, its wait event from
        # the backend as it is then: a request just past its SAVEPOINT can show that statement
        # as waiting. Blocked, it shows the same statement twice in a row.
        query = "SELECT pid, query FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        seen: list[Any] = []
        while True:
            waiting = self.sql(query)
            if waiting and waiting == seen:
                return str(waiting[0][1])
            seen = waiting
            assert time.monotonic() < deadline, "no request ever waited for the held lock"
            time.sleep(0.05)

    def wait_healthy(self, instance: int, timeout: float = 30) -> None:
        """Wait until an instance answers /health again (after its workers were killed)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if requests.get(f"{self.api(instance)}/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the instance did not recover"
            time.sleep(0.1)

    def close(self) -> None:
        """Release the checking connection pool."""
        self.engine.dispose()
