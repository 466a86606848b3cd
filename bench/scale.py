"""Scale-out under load and faults: N blogapi instances on PostgreSQL and Redis.

    python -m bench.scale                      # full run: 3 instances, 32 clients, 120 s
    python -m bench.scale --small              # the CI size (also run by tests/test_scale.py)
Starts PostgreSQL and Redis on loopback, restarts each once mid-run, kills a worker, then
checks from the database that every acknowledged write is there. A webhook subscribed to
post.published and post.updated, served by two `manage.py worker` processes (one of them killed
and restarted mid-run too), must deliver every change the clients saw acknowledged: the report
counts lost and duplicated deliveries. Every instance's /metrics is scraped as each phase
begins, and the instances' counts must agree with the clients' (bench/scale_agreement.py).
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import requests

from bench.ledger import Ledger
from bench.scale_agreement import Boundary, Comparison, compare, percentile
from bench.scale_clients import Writer
from bench.scale_metrics import Scraper
from devtools.binaries import ensure_redis_installed
from devtools.live import (
    OPEN_REGISTRATION,
    ROOT,
    LiveServer,
    LiveWorker,
    migrate,
    production_env,
)
from devtools.postgres_server import PostgresServer
from devtools.redis_server import RedisServer
from devtools.webhook_receiver import WebhookReceiver
from devtools.webhooks import admin_webhook, read_outbox

PHASES = ["warm-up", "postgres restart", "steady", "redis restart", "worker killed", "cool-down"]
# The clients' last steps, begun before the deadline, are finished after it ("end"); the last
# scrape comes once they have all stopped ("done").
TAIL, DONE = "end", "done"
WEBHOOK_EVENTS = ["post.published", "post.updated"]
DRAIN_SECONDS = 90  # after the load: a queue job lost with Redis comes back within ~35 s


class Phases:
    """Switches the clients to a new phase and scrapes every instance's /metrics there."""

    def __init__(self, ledger: Ledger, servers: list[LiveServer]) -> None:
        self.ledger = ledger
        self.scraper = Scraper([s.url for s in servers])
        self.boundaries: list[Boundary] = []

    def begin(self, phase: str) -> None:
        """Start `phase`: the clients count what they send from now on in it."""
        at = self.ledger.enter(phase)
        self.boundaries.append(Boundary(phase, at, self.scraper.scrape_all()))


def run_load(apis: list[str], ledger: Ledger, clients: int, seconds: float, faults) -> list[Writer]:
    """Drive `clients` writers for `seconds`, calling `faults(deadline)` meanwhile."""
    deadline = time.monotonic() + seconds
    writers = [Writer(apis, ledger, seed) for seed in range(clients)]
    threads = [threading.Thread(target=w.run, args=(deadline,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    faults(deadline)
    for thread in threads:
        thread.join(timeout=60)
    return writers


def fault_plan(
    pg: PostgresServer,
    redis: RedisServer,
    servers: list[LiveServer],
    seconds: float,
    kill_webhook_worker: Callable[[], None],
    phases: Phases,
):
    """Restart PostgreSQL, then Redis, then kill a web worker and a webhook worker, at fixed
    fractions of the run; each phase begins (and the instances are scraped) before its fault."""

    def kill_workers() -> None:
        os.kill(servers[0].worker_pids()[0], signal.SIGKILL)
        kill_webhook_worker()

    def faults(deadline: float) -> None:
        start = deadline - seconds
        steps = [
            (0.15, "postgres restart", lambda: (pg.stop(), time.sleep(2), pg.start_again())),
            (0.35, "steady", lambda: None),
            (0.55, "redis restart", lambda: (redis.stop(), time.sleep(2), redis.start_again())),
            (0.70, "worker killed", kill_workers),
            (0.85, "cool-down", lambda: None),
        ]
        for fraction, phase, action in steps:
            time.sleep(max(0.0, start + fraction * seconds - time.monotonic()))
            phases.begin(phase)
            print(f"{time.monotonic() - start:6.1f}s {phase}", flush=True)
            action()
        time.sleep(max(0.0, deadline - time.monotonic()))
        phases.begin(TAIL)

    return faults


def verify(pg: PostgresServer, dbname: str, ledger: Ledger, api: str) -> dict:
    """Check every acknowledged write against the database, and every acknowledged logout."""
    lost, checked = [], 0
    with pg.connect(dbname) as conn:
        rows = {
            r[0]: {"title": r[1], "body": r[2], "published": r[3] is not None}
            for r in conn.execute("SELECT id, title, body, published_at FROM posts")
        }
    for record in ledger.posts.values():
        if record.deleted:
            continue
        checked += 1
        stored = rows.get(record.id)
        if stored is None or (stored != record.acked and stored not in record.maybe):
            lost.append({"id": record.id, "acked": record.acked, "stored": stored})
    revoked_still_working = 0
    for token in ledger.logged_out_tokens:
        response = requests.get(
            f"{api}/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=15
        )
        revoked_still_working += response.status_code != 401
    return {
        "posts_checked": checked,
        "lost": lost,
        "logouts_checked": len(ledger.logged_out_tokens),
        "logouts_not_holding": revoked_still_working,
    }


def drain(receiver: WebhookReceiver, database_url: str, timeout: float) -> None:
    """Wait (bounded) until every event the outbox holds reached the receiver."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(read_outbox(database_url, WEBHOOK_EVENTS).uids) <= receiver.ids():
            return
        time.sleep(0.5)


def verify_webhooks(writers: list[Writer], receiver: WebhookReceiver, database_url: str) -> dict:
    """Deliveries against the changes the clients saw acknowledged: lost (an acknowledged
    change with fewer distinct deliveries than changes), duplicated (one event received more
    than once), and the outbox's own accounting (event rows per change, rows undelivered)."""
    acked: Counter[tuple[int, str]] = Counter()
    unsure: set[int] = set()
    for writer in writers:
        acked.update(writer.events)
        unsure |= writer.unsure
    outbox = read_outbox(database_url, WEBHOOK_EVENTS)
    received = receiver.snapshot()
    distinct: Counter[tuple[int, str]] = Counter()
    for msg_id in {d.msg_id for d in received}:
        if msg_id in outbox.uids:
            distinct[outbox.uids[msg_id]] += 1
    lost = {key: n - distinct[key] for key, n in acked.items() if distinct[key] < n}
    # Exactly one event row per acknowledged change; a write of unknown outcome may add one.
    rows_off = [
        key
        for key in set(acked) | set(outbox.per_post)
        if outbox.per_post[key] != acked[key] and key[0] not in unsure
    ]
    return {
        "changes": sum(acked.values()),
        "events": len(outbox.uids),
        "received": len(received),
        "lost": sum(lost.values()),
        "lost_keys": sorted(lost)[:20],
        "duplicates": len(received) - len({d.msg_id for d in received}),
        "undelivered_rows": len(set(outbox.uids) - {d.msg_id for d in received}),
        "rows_not_one_per_change": len(rows_off),
        "unverified": receiver.unverified,
        "deliveries": dict(outbox.deliveries),
    }


UNAVAILABLE = re.compile(r"database unavailable: (.+)$")


def json_record(line: str) -> dict | None:
    """A log line the app wrote as JSON (LOG_FORMAT=json, production's), else None."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def unavailable_causes(logs: list[Path]) -> Counter:
    """Why the instances answered 503: the driver's reason logged with each one."""
    causes: Counter = Counter()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            record = json_record(line)
            found = UNAVAILABLE.search(str(record.get("message", "")) if record else line)
            if found:
                causes[found.group(1).strip()] += 1
    return causes


TRACEBACK_END = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit)\w*)(?::|$)")


# Our last-resort handler, Flask's when a handler itself fails, gunicorn's outside Flask.
TRACEBACK_STARTS = ("unhandled error", "Exception on ", "Error handling request")


def last_exception(traceback_lines: list[str]) -> str:
    """The last exception named in a traceback (of a chain: the one raised last)."""
    found = [m.group(1) for m in map(TRACEBACK_END.match, traceback_lines) if m]
    return found[-1] if found else ""


def server_error_causes(logs: list[Path]) -> Counter:
    """Why the instances answered 500: the last exception of each logged traceback's chain,
    from the app's JSON lines (the traceback in `error`) or text lines (gunicorn's)."""
    causes: Counter = Counter()
    for log in logs:
        last: str | None = None
        for line in [*log.read_text(errors="replace").splitlines(), "[end]"]:
            record = json_record(line)
            if record is not None or line.startswith(("[", "database unavailable")):
                if last:  # the next log record ends a text traceback
                    causes[last] += 1
                last = None
                text = str(record.get("message", "")) if record else line
                if any(start in text for start in TRACEBACK_STARTS):
                    if record is None:
                        last = ""
                    elif cause := last_exception(str(record.get("error", "")).splitlines()):
                        causes[cause] += 1
            elif last is not None:
                last = last_exception([line]) or last
    return causes


def report(
    ledger: Ledger,
    result: dict,
    args: argparse.Namespace,
    causes: Counter,
    crashes: Counter | None = None,
    hooks: dict | None = None,
    sides: Comparison | None = None,
) -> str:
    """Per-phase throughput, latency and status counts, the clients' and the instances', as
    Markdown."""
    lines = [
        f"Scale test: {args.instances} instances x {args.workers} workers, {args.clients} clients, "
        f"{args.seconds:.0f}s on PostgreSQL and Redis (restarted once each; one web worker and "
        "one webhook worker killed).",
        "",
        "| phase | requests | req/s | p50 ms | p99 ms | 2xx | 4xx | 503 | 500 | network errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in [*PHASES, TAIL]:
        counts = ledger.statuses.get(phase, {})
        latencies = ledger.latencies.get(phase, [])
        duration = ledger.ended.get(phase, 0) - ledger.started.get(phase, 0) or 1
        by = {k.split()[-1]: v for k, v in counts.items() if k.startswith("status ")}
        ok = sum(v for k, v in by.items() if k.isdigit() and 200 <= int(k) < 300)
        client = sum(v for k, v in by.items() if k.isdigit() and 400 <= int(k) < 500)
        lines.append(
            f"| {'after the deadline' if phase == TAIL else phase} | {len(latencies)} | "
            f"{len(latencies) / duration:.0f} | {percentile(latencies, 0.5) or 0:.1f} | "
            f"{percentile(latencies, 0.99) or 0:.1f} | {ok} | "
            f"{client} | {by.get('503', 0)} | {by.get('500', 0)} | {by.get('network', 0)} |"
        )
    if sides is not None:
        lines += ["", *sides.lines()]
    lines += [
        "",
        f"Acknowledged posts checked in the database: {result['posts_checked']}, lost or wrong: "
        f"{len(result['lost'])}. Acknowledged logouts checked: {result['logouts_checked']}, "
        f"not holding: {result['logouts_not_holding']}.",
    ]
    if hooks is not None:
        lines += [
            "",
            f"Webhooks (post.published, post.updated; 2 worker processes): "
            f"{hooks['changes']} acknowledged changes, {hooks['events']} event rows, "
            f"{hooks['received']} verified deliveries received; "
            f"lost deliveries: {hooks['lost']}, duplicated deliveries: {hooks['duplicates']}, "
            f"event rows never delivered: {hooks['undelivered_rows']}, "
            f"changes without exactly one event row: {hooks['rows_not_one_per_change']}, "
            f"unverified signatures: {hooks['unverified']}.",
        ]
        if hooks["lost"]:
            lines += ["", f"Lost (post, event): {hooks['lost_keys']}."]
    if causes:
        listed = ", ".join(f"{cause} x{count}" for cause, count in causes.most_common())
        lines += ["", f"Causes of 503 logged by the instances: {listed}."]
    failing = Counter()
    for counts in ledger.statuses.values():
        for key, count in counts.items():
            action, _, status = key.rpartition(" ")
            if status == "500" and action != "status":
                failing[action] += count
    if failing:
        listed = ", ".join(f"{action} x{count}" for action, count in failing.most_common())
        lines += ["", f"Requests answered 500: {listed}."]
    if crashes:
        listed = ", ".join(f"{cause} x{count}" for cause, count in crashes.most_common())
        lines += ["", f"Exceptions behind 500s logged by the instances: {listed}."]
    lines += [
        "",
        "A request counts in the phase it started in: requests in flight when PostgreSQL stops "
        "or a worker is killed show in the phase before. The clients finish the step they are "
        "in when time is up: those requests show as after the deadline.",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument(
        "--small", action="store_true", help="CI size: 2 instances, 8 clients, 30 s"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "scale.md")
    parser.add_argument("--drain", type=float, default=DRAIN_SECONDS, help="most seconds to wait")
    args = parser.parse_args(argv)
    if args.small:
        args.instances, args.workers, args.clients, args.seconds = 2, 2, 8, 30
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the scale test; exit 1 if anything acknowledged (a write, a logout, a webhook
    delivery) was lost, any 500 was seen, or the instances' metrics disagree with the
    clients."""
    args = parse_args(argv)
    if not ensure_redis_installed():
        print("scale: redis-server is not available", file=sys.stderr)
        return 2
    with (
        tempfile.TemporaryDirectory(prefix="blogapi-scale-") as tmp,
        PostgresServer("blogapi_scale") as pg,
        RedisServer() as redis,
        WebhookReceiver() as receiver,
    ):
        env = production_env(
            pg.url,
            RATELIMIT_STORAGE_URI=redis.url,
            REDIS_URL=redis.url,
            LOGIN_RATE_LIMIT="100000 per minute",
            POST_WRITE_RATE_LIMIT="100000 per minute",
            DATABASE_CONNECT_TIMEOUT="3",
            WEBHOOK_ALLOW_PRIVATE="true",  # the receiver is on loopback
            WEBHOOK_RETRY_DELAYS="1,2,5,10,30",
            **OPEN_REGISTRATION,  # the writers sign themselves up
            METRICS_ENABLED="true",
            METRICS_ALLOW="127.0.0.0/8",
        )
        # Each instance makes its own metrics folder: a shared one would count every instance
        # in each instance's scrape.
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        migrate(env)
        logs = [Path(tmp) / f"i{n}.log" for n in range(args.instances)]
        servers = [LiveServer(env, workers=args.workers, log_path=log).start() for log in logs]
        receiver.secret = admin_webhook(env, servers[0].api, receiver.url, WEBHOOK_EVENTS)
        hook_logs = [Path(tmp) / f"worker{n}.log" for n in range(2)]
        hook_workers = [LiveWorker(env, log_path=log).start() for log in hook_logs]

        def kill_webhook_worker() -> None:
            # Killed mid-whatever, then restarted, as a supervisor would.
            hook_workers[0].kill()
            hook_workers.append(LiveWorker(env, log_path=hook_logs[0]).start())

        try:
            ledger = Ledger()
            phases = Phases(ledger, servers)
            phases.begin("warm-up")  # before the first client request
            writers = run_load(
                [s.api for s in servers],
                ledger,
                args.clients,
                args.seconds,
                fault_plan(pg, redis, servers, args.seconds, kill_webhook_worker, phases),
            )
            phases.begin(DONE)  # after the last
            sides = compare(
                ledger,
                phases.boundaries,
                sum(s.health_checks for s in servers),
                [*PHASES, TAIL],
            )
            result = verify(pg, "blogapi_scale", ledger, servers[-1].api)
            drain(receiver, pg.url, args.drain)
            hooks = verify_webhooks(writers, receiver, pg.url)
        finally:
            for worker in hook_workers:
                worker.stop()
            for server in servers:
                server.stop()
        causes = unavailable_causes(logs)
        crashes = server_error_causes(logs)
        server_errors = sum(c.get("status 500", 0) for c in ledger.statuses.values())
        if server_errors:
            keep = args.output.with_suffix(".logs")
            keep.mkdir(parents=True, exist_ok=True)
            for log in logs:
                shutil.copy(log, keep / log.name)
    text = report(ledger, result, args, causes, crashes, hooks, sides)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    if sides.problems:
        print("scale: THE INSTANCES' METRICS DISAGREE WITH THE CLIENTS:", file=sys.stderr)
        for problem in sides.problems:
            print(f"  {problem}", file=sys.stderr)
    failed = (
        result["lost"]
        or result["logouts_not_holding"]
        or server_errors
        or hooks["lost"]
        or sides.problems
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
