"""Webhooks under faults, scaled out as production runs them: two gunicorn instances and two
`manage.py worker` processes on one PostgreSQL and one Redis (the queue, and the rate limits),
all started here. A writer publishes through the API while a worker is killed mid-delivery,
Redis is down, PostgreSQL restarts and a web instance is killed; afterwards every acknowledged
change has exactly one event row and every event reached the receiver, verified."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from devtools.binaries import ensure_redis_installed, find_pg_bindir
from devtools.live import OPEN_REGISTRATION, LiveServer, LiveWorker, migrate, production_env
from devtools.postgres_server import PostgresServer
from devtools.redis_server import RedisServer
from devtools.webhooks import admin_webhook, read_outbox
from tests.support.live import eventually, sign_up_over_http
from tests.support.prerequisites import unavailable
from tests.support.webhooks import Receiver, start_receiver

pytestmark = pytest.mark.slow

DIED = "The worker stopped before this attempt finished."
EVENTS = ["post.published", "post.updated"]
RETRYABLE = {502, 503, 504}
TIMEOUT = 15


@dataclass
class Writer:
    """An author publishing over HTTP, who keeps a ledger of what the API acknowledged."""

    headers: dict[str, str]
    acknowledged: Counter[tuple[int, str]] = field(default_factory=Counter)
    unsure: set[int] = field(default_factory=set)  # a write whose answer never came
    refused: list[str] = field(default_factory=list)

    def call(self, method: str, url: str, tries: int = 1, **kwargs: object) -> int | None:
        """One write, retried while the answer says the service is briefly away; its status
        (None when no answer came at all), and the response body in `last`."""
        status: int | None = None
        for attempt in range(tries):
            try:
                response = requests.request(
                    method, url, headers=self.headers, timeout=TIMEOUT, **kwargs
                )
            except requests.RequestException:
                status = None
            else:
                status, self.last = response.status_code, response
                if status not in RETRYABLE:
                    return status
            time.sleep(min(1.0, 0.1 * 2**attempt))
        return status

    def publish(self, api: str, tries: int = 1) -> int | None:
        """Write a post and publish it; its id when the publish was acknowledged."""
        title = f"Fault {uuid.uuid4().hex[:10]}"
        body = {"title": title, "body": "Said through every fault."}
        if self.call("POST", f"{api}/posts", tries, json=body) != 201:
            self.refused.append(f"create: {self.describe()}")
            return None
        post_id = int(self.last.json()["id"])
        status = self.call("POST", f"{api}/posts/{post_id}/publish", tries)
        if status == 200:
            self.acknowledged[post_id, "post.published"] += 1
            return post_id
        self.unsure.add(post_id)
        self.refused.append(f"publish {post_id}: {self.describe()}")
        return None

    def edit(self, api: str, post_id: int) -> None:
        """Change a live post's title: one post.updated."""
        title = {"title": f"Edited {uuid.uuid4().hex[:10]}"}
        assert self.call("PATCH", f"{api}/posts/{post_id}", json=title) == 200, self.describe()
        self.acknowledged[post_id, "post.updated"] += 1

    def describe(self) -> str:
        """The last answer, for a failure message."""
        last = getattr(self, "last", None)
        return "no answer" if last is None else f"{last.status_code} {last.text[:200]}"


@dataclass
class Cluster:
    """Everything the faults act on."""

    pg: PostgresServer
    redis: RedisServer
    database_url: str
    env: dict[str, str]
    servers: list[LiveServer]
    workers: list[LiveWorker]
    receiver: Receiver
    writer: Writer
    workdir: Path

    def worker(self, name: str) -> LiveWorker:
        """Start one more worker process, logging to its own file."""
        worker = LiveWorker(self.env, threads=4, poll=0.2, log_path=self.workdir / f"{name}.log")
        self.workers.append(worker.start())
        return worker

    def two_workers(self) -> None:
        """Make sure two workers run (a fault earlier in the module may have left fewer)."""
        alive = [w for w in self.workers if w.process is not None and w.process.poll() is None]
        for n in range(len(alive), 2):
            self.worker(f"worker-{len(self.workers)}-{n}")

    def attempts(self, uid: str) -> list[tuple[int, int | None, str | None]]:
        """The delivery log of one event: (attempt, status, error), in order."""
        with self.pg.connect("blogapi_faults") as conn:
            rows = conn.execute(
                "SELECT attempt, status_code, error FROM webhook_attempts"
                " WHERE event_uid = %s ORDER BY attempt",
                (uid,),
            ).fetchall()
        return [(a, s, e) for a, s, e in rows]


def received_for(receiver: Receiver, post_id: int, kind: str = "post.published") -> list[str]:
    """The verified deliveries of one post's event, by webhook-id."""
    with receiver.lock:
        return [
            r.msg_id
            for r in receiver.received
            if r.verified and r.body["type"] == kind and r.body["data"]["id"] == post_id
        ]


def wait_delivered(cluster: Cluster, post_ids: list[int], timeout: float) -> None:
    """Wait until each post's go-live reached the receiver, signed as it should be."""
    missing = lambda: [p for p in post_ids if not received_for(cluster.receiver, p)]  # noqa: E731
    try:
        eventually(lambda: not missing(), timeout, "every acknowledged publish delivered")
    except AssertionError as error:
        exits = [w.process.poll() for w in cluster.workers if w.process is not None]
        raise AssertionError(
            f"{error}; never delivered: {missing()}; worker exit codes: {exits}"
        ) from None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs once, in the SQLite pass: it starts its own PostgreSQL and Redis")
    if find_pg_bindir() is None:
        unavailable("PostgreSQL server binaries are not installed")
    if not ensure_redis_installed():
        unavailable("redis-server is not installed")
    workdir = tmp_path_factory.mktemp("faults")
    receiver = start_receiver()
    with PostgresServer("blogapi_faults") as pg, RedisServer() as redis:
        env = production_env(
            pg.url,
            REDIS_URL=redis.url,  # the queue, and the rate limits' counters
            POST_WRITE_RATE_LIMIT="100000 per minute",
            LOGIN_RATE_LIMIT="1000 per minute",
            DATABASE_CONNECT_TIMEOUT="3",
            WEBHOOK_ALLOW_PRIVATE="true",
            WEBHOOK_RETRY_DELAYS="1,2,2,5",
            **OPEN_REGISTRATION,
        )
        migrate(env)
        servers = [
            LiveServer(env, workers=2, log_path=workdir / f"web{n}.log").start() for n in (1, 2)
        ]
        receiver.secret = admin_webhook(env, servers[0].api, receiver.url, EVENTS)
        writer = Writer(sign_up_over_http(servers[0].api, "faultwriter"))
        cluster = Cluster(pg, redis, pg.url, env, servers, [], receiver, writer, workdir)
        try:
            yield cluster
        finally:
            for worker in cluster.workers:
                worker.stop()
            for server in servers:
                server.stop()
            receiver.server.stop()


def test_a_worker_killed_mid_delivery_leaves_it_to_the_other_worker(cluster):
    first = cluster.worker("worker1")  # alone for now, so it is the one sending
    cluster.receiver.sleep = 3.0
    post_id = cluster.writer.publish(cluster.servers[0].api)
    assert post_id is not None, cluster.writer.refused
    eventually(lambda: received_for(cluster.receiver, post_id), 30, "the first attempt arrived")
    first.kill()  # while the receiver still holds the request
    cluster.receiver.sleep = 0.0
    cluster.worker("worker2")
    cluster.worker("worker1-again")  # two workers again for the faults that follow
    # The lease (30 s) runs out, a relay's sweep takes the delivery back, a worker sends it.
    eventually(lambda: len(received_for(cluster.receiver, post_id)) >= 2, 75, "a second attempt")
    (uid,) = set(received_for(cluster.receiver, post_id))
    eventually(lambda: len(cluster.attempts(uid)) == 2 and cluster.attempts(uid)[1][1], 10, "log")
    assert cluster.attempts(uid) == [(1, None, DIED), (2, 200, None)]


def test_changes_made_while_redis_is_down_are_delivered_when_it_returns(cluster):
    cluster.two_workers()
    cluster.redis.stop()
    published, started = [], time.monotonic()
    try:
        while time.monotonic() - started < 10:
            api = cluster.servers[len(published) % 2].api
            published.append(cluster.writer.publish(api))
            time.sleep(0.5)
    finally:
        cluster.redis.start_again()
    # Redis holds the queue and the rate limits, not the data: writes go on without it.
    assert None not in published, cluster.writer.refused
    wait_delivered(cluster, published, timeout=60)


def test_every_publish_acknowledged_across_a_postgres_restart_is_delivered(cluster):
    cluster.two_workers()
    published: list[int] = []
    stop = threading.Event()

    def publish_until_stopped() -> None:
        while not stop.is_set():
            api = cluster.servers[len(published) % 2].api
            post_id = cluster.writer.publish(api, tries=30)
            if post_id is not None:
                published.append(post_id)
            time.sleep(0.1)

    thread = threading.Thread(target=publish_until_stopped, daemon=True)
    thread.start()
    try:
        time.sleep(2)
        cluster.pg.stop()
        time.sleep(3)
        cluster.pg.start_again()
        time.sleep(3)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert len(published) >= 5, cluster.writer.refused
    wait_delivered(cluster, published, timeout=75)


def test_a_web_instance_killed_right_after_acknowledging_a_publish_does_not_lose_it(cluster):
    cluster.two_workers()
    doomed = cluster.servers[1]
    post_id = cluster.writer.publish(doomed.api)
    assert doomed.process is not None
    for pid in [*doomed.worker_pids(), doomed.process.pid]:
        os.kill(pid, signal.SIGKILL)
    doomed.process.wait(timeout=10)
    assert post_id is not None, cluster.writer.refused
    wait_delivered(cluster, [post_id], timeout=60)


def test_every_acknowledged_change_made_one_event_and_every_event_was_delivered(cluster, capsys):
    cluster.two_workers()
    api = cluster.servers[0].api
    live = [cluster.writer.publish(api) for _ in range(3)]
    assert None not in live, cluster.writer.refused
    for post_id in live:
        cluster.writer.edit(api, post_id)
        cluster.writer.edit(api, post_id)
    expected = cluster.writer.acknowledged
    eventually(
        lambda: set(read_outbox(cluster.database_url, EVENTS).uids) <= delivered(cluster),
        60,
        "every event row delivered",
    )
    # A receiver has its POST a moment before the worker records the answer it got.
    eventually(
        lambda: read_outbox(cluster.database_url, EVENTS).deliveries["pending"] == 0,
        30,
        "every delivery recorded",
    )
    outbox = read_outbox(cluster.database_url, EVENTS)
    # Exactly one event per acknowledged change; a write whose answer never came may have
    # made its event or not, and nothing else made any.
    for (post_id, kind), count in outbox.per_post.items():
        if post_id not in cluster.writer.unsure:
            assert count == expected[post_id, kind], (post_id, kind)
    assert not [key for key in expected if outbox.per_post[key] != expected[key]]
    assert set(outbox.uids) <= delivered(cluster)
    assert outbox.deliveries["failed"] == 0 and outbox.deliveries["pending"] == 0
    with cluster.receiver.lock:
        receptions = Counter(r.msg_id for r in cluster.receiver.received if r.verified)
    duplicates = {uid: n - 1 for uid, n in receptions.items() if n > 1}
    with capsys.disabled():
        print(
            f"\nwebhook faults: {sum(expected.values())} acknowledged changes, "
            f"{len(outbox.uids)} event rows, {sum(receptions.values())} verified receptions, "
            f"{sum(duplicates.values())} duplicates ({len(duplicates)} events), "
            f"{len(cluster.writer.unsure)} writes of unknown outcome"
        )


def delivered(cluster: Cluster) -> set[str]:
    """The webhook-ids that reached the receiver with a good signature."""
    with cluster.receiver.lock:
        return {r.msg_id for r in cluster.receiver.received if r.verified}
