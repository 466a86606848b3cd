"""Webhook delivery benchmark: how fast a publish reaches a receiver, and what webhooks cost
the writes.

    python -m bench.webhooks                  # SQLite and PostgreSQL + Redis, ~5 minutes
    python -m bench.webhooks --seconds 5      # shorter runs
    python -m bench.webhooks --backends sqlite
For each backend (SQLite with the embedded SqliteHuey queue; PostgreSQL with Redis, both
throwaway servers on loopback) it starts blogapi under gunicorn in production mode and
`manage.py worker` processes, then:
1. with 1 and with 4 worker processes, 4 client threads create + publish posts for a bounded
   time; a receiver on 127.0.0.1 verifies each delivery (Standard Webhooks reference library).
   Reported: events delivered per second, p50/p99 from the publish's acknowledgement to the
   delivery's arrival;
2. create + publish pairs per second (4 client threads, bounded) with no webhook configured
   and with one (one worker running in both), alternating rounds: the slowdown (goal <= 10%);
   and the same with no worker running, which isolates what the request itself pays (its
   outbox row) from what the deliveries take from the same cores.
Results: bench/results/webhooks.md. See bench/README.md, "Webhooks".
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from devtools.binaries import ensure_redis_installed, find_pg_bindir
from devtools.live import OPEN_REGISTRATION, ROOT, LiveServer, LiveWorker, migrate, production_env
from devtools.postgres_server import PostgresServer
from devtools.redis_server import RedisServer
from devtools.webhook_receiver import WebhookReceiver
from devtools.webhooks import admin_webhook

CLIENTS = 4
PASSWORD = "webhook bench passphrase 42"
EVENTS = ["post.published", "post.updated"]
TIMEOUT = 15


@dataclass
class Backend:
    """Where runs keep their data and their queue: SQLite files, or servers."""

    name: str
    pg: PostgresServer | None = None
    redis_url: str = ""

    def fresh(self, tmp: Path, label: str) -> tuple[str, dict[str, str], Path]:
        """A new empty database for one run: its URL, extra settings and the run's folder."""
        workdir = tmp / label
        workdir.mkdir()
        if self.pg is None:
            return f"sqlite:///{workdir / 'bench.db'}", {}, workdir
        name = f"hooks_{uuid.uuid4().hex[:10]}"
        self.pg.create_database(name)
        return self.pg.url_for(name), {"REDIS_URL": self.redis_url}, workdir


@dataclass
class Load:
    """What the clients saw: when each publish was acknowledged, and how many failed."""

    acked: dict[int, float] = field(default_factory=dict)  # post id -> monotonic time
    failures: int = 0
    started: float = 0.0
    ended: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pairs_per_second(self) -> float:
        """Acknowledged create + publish pairs per second of load."""
        return len(self.acked) / max(self.ended - self.started, 1e-9)


def sign_up(api: str) -> dict[str, str]:
    """Register an author (open registration) and log in; the Authorization header."""
    name = f"bench{uuid.uuid4().hex[:10]}"
    account = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    requests.post(f"{api}/auth/register", json=account, timeout=TIMEOUT).raise_for_status()
    login = requests.post(
        f"{api}/auth/login", json={"username": name, "password": PASSWORD}, timeout=TIMEOUT
    )
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def publish_for(
    api: str, headers: dict[str, str], seconds: float, pace: float | None = None
) -> Load:
    """CLIENTS threads creating and publishing posts for `seconds` as fast as they can, or
    one client publishing `pace` posts a second."""
    load = Load()

    def client() -> None:
        session = requests.Session()
        session.headers.update(headers)
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            if pace:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += 1 / pace
            post = {"title": f"Bench {uuid.uuid4().hex[:12]}", "body": "A post for the hooks."}
            try:
                created = session.post(f"{api}/posts", json=post, timeout=TIMEOUT)
                post_id = created.json()["id"] if created.status_code == 201 else None
                published = (
                    session.post(f"{api}/posts/{post_id}/publish", timeout=TIMEOUT)
                    if post_id is not None
                    else None
                )
            except requests.RequestException:
                published = None
            with load.lock:
                if published is not None and published.status_code == 200:
                    load.acked[post_id] = time.monotonic()
                else:
                    load.failures += 1

    load.started = time.monotonic()
    deadline = load.started + seconds
    threads = [threading.Thread(target=client, daemon=True) for _ in range(1 if pace else CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 2 * TIMEOUT)
    load.ended = time.monotonic()
    return load


def percentile(values: list[float], fraction: float) -> float:
    """A simple percentile (0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


@contextmanager
def instance(
    database_url: str, extra: dict[str, str], workdir: Path, workers: int
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """blogapi (gunicorn, 2 workers) and `workers` webhook worker processes on a fresh
    database; yields the server and its environment."""
    env = production_env(
        database_url,
        BLOGAPI_INSTANCE_DIR=str(workdir),  # the SQLite queue file lives here
        RATELIMIT_ENABLED="false",
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_RETRY_DELAYS="1,2,5",
        **OPEN_REGISTRATION,
        **extra,
    )
    migrate(env)
    with ExitStack() as stack:
        server = stack.enter_context(LiveServer(env, workers=2, log_path=workdir / "web.log"))
        for n in range(workers):
            worker = LiveWorker(env, threads=4, poll=0.1, log_path=workdir / f"worker{n}.log")
            stack.enter_context(worker)
        yield server, env


def delivery_run(
    name: str,
    database_url: str,
    extra: dict[str, str],
    workdir: Path,
    workers: int,
    seconds: float,
    pace: float | None = None,
) -> dict:
    """Publish for `seconds` (flat out, or at `pace` a second) with `workers` worker
    processes; delivery rate and latency."""
    with (
        WebhookReceiver() as receiver,
        instance(database_url, extra, workdir, workers) as (server, env),
    ):
        receiver.secret = admin_webhook(env, server.api, receiver.url, EVENTS)
        load = publish_for(server.api, sign_up(server.api), seconds, pace)
        deadline = time.monotonic() + max(30.0, 3 * seconds)  # bounded drain
        while time.monotonic() < deadline:
            arrived = {d.subject_id for d in receiver.snapshot() if d.type == "post.published"}
            if set(load.acked) <= arrived:
                break
            time.sleep(0.1)
        first: dict[int, float] = {}
        for delivery in receiver.snapshot():
            if delivery.type == "post.published" and delivery.subject_id is not None:
                first.setdefault(delivery.subject_id, delivery.at)
        latencies = [(first[p] - at) * 1000 for p, at in load.acked.items() if p in first]
        last = max(first.values(), default=load.started)
        return {
            "backend": name,
            "workers": workers,
            "load": f"{pace:g}/s, 1 client" if pace else f"flat out, {CLIENTS} clients",
            "published": len(load.acked),
            "failures": load.failures,
            "delivered": len(latencies),
            "missing": len(set(load.acked) - set(first)),
            "events_per_second": len(latencies) / max(last - load.started, 1e-9),
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "unverified": receiver.unverified,
        }


# The write runs: (name, a webhook registered, worker processes running).
WRITE_VARIANTS = (
    ("plain", False, 1),
    ("hooked", True, 1),
    ("bare", False, 0),
    ("deferred", True, 0),
)


def write_run(
    database_url: str,
    extra: dict[str, str],
    workdir: Path,
    seconds: float,
    hooked: bool,
    workers: int = 1,
) -> float:
    """Create + publish pairs per second, with or without a webhook and a worker. The
    receiver runs in a process of its own, so its verifying takes cores, as it would, but not
    the clients' interpreter lock."""
    with ExitStack() as stack:
        server, env = stack.enter_context(instance(database_url, extra, workdir, workers))
        if hooked:
            receiver = subprocess.Popen(
                [sys.executable, "-m", "devtools.webhook_receiver"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            stack.callback(receiver.wait, 30)
            stack.callback(receiver.stdin.close)  # type: ignore[union-attr]
            url = receiver.stdout.readline().strip()  # type: ignore[union-attr]
            secret = admin_webhook(env, server.api, url, EVENTS)
            receiver.stdin.write(secret + "\n")  # type: ignore[union-attr]
            receiver.stdin.flush()  # type: ignore[union-attr]
        headers = sign_up(server.api)
        publish_for(server.api, headers, min(2.0, seconds))  # warm up
        return publish_for(server.api, headers, seconds).pairs_per_second


@contextmanager
def backends(names: list[str]) -> Iterator[list[Backend]]:
    """The backends asked for, their servers started (and stopped after)."""
    with ExitStack() as stack:
        found: list[Backend] = []
        for name in names:
            if name == "sqlite":
                found.append(Backend("SQLite (SqliteHuey)"))
            elif find_pg_bindir() is None or not ensure_redis_installed():
                print("webhooks bench: no PostgreSQL or Redis here; skipped", file=sys.stderr)
            else:
                pg = stack.enter_context(PostgresServer("blogapi_hooks"))
                redis = stack.enter_context(RedisServer())
                found.append(Backend("PostgreSQL + Redis", pg, redis.url))
        yield found


def measure(args: argparse.Namespace, tmp: Path) -> dict:
    """Every run the arguments ask for."""
    deliveries, writes = [], []
    with backends(args.backends) as found:
        for backend in found:
            for workers, pace in [(w, None) for w in args.workers] + [(1, args.pace)]:
                url, extra, workdir = backend.fresh(tmp, f"d{len(deliveries)}")
                result = delivery_run(
                    backend.name, url, extra, workdir, workers, args.seconds, pace
                )
                deliveries.append(result)
                print(result, flush=True)
            rates: dict[str, list[float]] = {name: [] for name, _, _ in WRITE_VARIANTS}
            for round_ in range(args.rounds):
                for name, hooked, workers in WRITE_VARIANTS:
                    url, extra, workdir = backend.fresh(tmp, f"w{len(writes)}-{round_}-{name}")
                    rate = write_run(url, extra, workdir, args.seconds, hooked, workers)
                    rates[name].append(rate)
                    print(f"{backend.name} {name}: {rate:.1f}/s")
            writes.append({"backend": backend.name, **rates})
    return {"deliveries": deliveries, "writes": writes}


def report(args: argparse.Namespace, result: dict) -> str:
    """The results as Markdown."""
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    lines = [
        "# Webhooks: delivery throughput and latency, and the cost to writes",
        "",
        f"{when}, {platform.python_implementation()} {platform.python_version()}; blogapi under "
        f"gunicorn (2 sync workers, production mode), {CLIENTS} client threads creating and "
        f"publishing posts for {args.seconds:.0f} s per run; `manage.py worker` processes of 4 "
        "threads each (relay polling every 0.1 s); a receiver on 127.0.0.1 verifying every "
        "delivery with the Standard Webhooks reference library. Load average at the end: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (anything else running makes "
        "these figures noisy).",
        "",
        "| backend | worker processes | publishing | publishes acknowledged | delivered | missing "
        "| events/s | p50 ms | p99 ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in result["deliveries"]:
        lines.append(
            f"| {run['backend']} | {run['workers']} | {run['load']} | {run['published']} | "
            f"{run['delivered']} | "
            f"{run['missing']} | {run['events_per_second']:.1f} | {run['p50']:.0f} | "
            f"{run['p99']:.0f} |"
        )
    lines += [
        "",
        "Latency: from the publish's acknowledgement to the delivery's arrival. Events/s: "
        "deliveries over the time from the first publish to the last delivery.",
        "",
        f"Writes: create + publish pairs per second, {CLIENTS} client threads, one worker "
        f"process running, {args.rounds} alternating rounds (median), with no webhook "
        "configured and with one (goal: at most 10% slower). The same again with no worker "
        "running (with a webhook, its events wait in the outbox): what the request itself "
        "pays, apart from what the deliveries take from the same two cores.",
        "",
        "| backend | no webhook | one webhook | slowdown | no worker: no webhook | no worker: "
        "one webhook | slowdown of the request |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in result["writes"]:
        plain, hooked, bare, deferred = (
            statistics.median(run[name]) for name in ("plain", "hooked", "bare", "deferred")
        )
        slowdown = (1 - hooked / plain) * 100 if plain else 0.0
        request = (1 - deferred / bare) * 100 if bare else 0.0
        lines.append(
            f"| {run['backend']} | {plain:.1f} | {hooked:.1f} | {slowdown:.1f}% | {bare:.1f} | "
            f"{deferred:.1f} | {request:.1f}% |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="load per run")
    parser.add_argument("--rounds", type=int, default=3, help="write-cost rounds")
    parser.add_argument("--pace", type=float, default=5, help="publishes/s of the paced run")
    parser.add_argument("--workers", type=lambda s: [int(n) for n in s.split(",")], default=[1, 4])
    parser.add_argument("--backends", type=lambda s: s.split(","), default=["sqlite", "postgres"])
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "webhooks.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write its table."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="blogapi-hooks-bench-") as tmp:
        result = measure(args, Path(tmp))
    text = report(args, result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
