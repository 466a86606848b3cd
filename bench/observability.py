"""Observability benchmark (issue 21): what request ids, metrics and the access log cost on the
hot path, against the code before any of them.

    python -m bench.observability                              # SQLite, ~10 minutes
    python -m bench.observability --database both              # and a throwaway PostgreSQL
    python -m bench.observability --seconds 2 --rounds 1       # a smoke run
See bench/README.md ("Observability").

Three servers run side by side, each on its own database seeded alike by its own code, under
the same gunicorn settings (2 sync workers, production config), each writing its stderr (where
the access log goes) to a file on disk, as production does:

* `before`: BASE_COMMIT, the last commit before any instrumentation, checked out in a temporary
  git worktree and served by this venv;
* `after`: this tree with the production defaults (ACCESS_LOG on, JSON log lines, metrics in
  prometheus_client's multiprocess mode, in the folder gunicorn.conf.py makes);
* `after, access log off`: the same with ACCESS_LOG=false.

For each round, each hot-path request is run by wrk against the three sides in turn, the order
rotated every round; the report gives the medians, after / before, wrk's p50 and p99, and the
CPU the measured server's workers spent per request.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.databases import drop_database, new_database
from bench.history import base_tree, prepare_in, uptime
from bench.report import commit, machine, row
from bench.run import (
    RESULTS,
    database_url,
    databases_arg,
    databases_here,
    login,
    prepare_database,
    stop_on_sigterm,
)
from bench.scenarios import TOKEN_MINUTES
from bench.wrk import Request, WrkResult, add_wrk_options, run_wrk
from blogapi.observability.background import EVERY as CHORES_EVERY
from devtools.live import ROOT, LiveServer

BENCH = "bench.observability"  # how to run this benchmark, for messages
# The last commit before any instrumentation (issue 21): the baseline.
BASE_COMMIT = "4704f34"
BEFORE, AFTER, LOG_OFF = "before", "after", "after, access log off"
SIDES = (BEFORE, AFTER, LOG_OFF)
# Issue 21: instrumentation costs at most 5% of the hot-path throughput.
BUDGET = 0.95
REQUEST_ID = "X-Request-Id"
CHECKS = 8  # requests of each kind sent before the runs, to see which path answers them
TICKS = os.sysconf("SC_CLK_TCK")


# --- the requests --------------------------------------------------------------------------


@dataclass(frozen=True)
class HotPath:
    """One request measured: a short key (for --only), its name in the table, the status it
    must answer and the path it is expected to take inside the app."""

    key: str
    name: str
    status: int
    expected: str  # "replay" (before Flask) or "flask"


HOT_PATHS = (
    HotPath("list", "`GET /posts?per_page=20`", 200, "replay"),
    HotPath("post", "`GET /posts/{slug}`", 200, "replay"),
    HotPath("me", "`GET /auth/me` (bearer)", 200, "replay"),
    HotPath("list-304", "`GET /posts?per_page=20`, `If-None-Match` current: 304", 304, "flask"),
    HotPath("post-stale", "`GET /posts/{slug}`, `If-None-Match` stale: 200", 200, "flask"),
)
KEYS = tuple(hot.key for hot in HOT_PATHS)


@dataclass(frozen=True)
class Blog:
    """What the requests need from one side's blog: a token, the newest slug, the list's ETag."""

    token: str
    slug: str
    list_etag: str


def blog_of(api: str, username: str = "bencher") -> Blog:
    """A bench user's token (the author unless named), the newest post's slug and the first
    page's ETag."""
    first = requests.get(f"{api}/posts?per_page=20", timeout=30)
    first.raise_for_status()
    return Blog(login(api, username), first.json()["items"][0]["slug"], first.headers["ETag"])


def request_for(hot: HotPath, blog: Blog) -> Request:
    """The wrk request of one hot path on one side's blog."""
    return {
        "list": Request("/api/v1/posts?per_page=20"),
        "post": Request(f"/api/v1/posts/{blog.slug}"),
        "me": Request("/api/v1/auth/me", {"Authorization": f"Bearer {blog.token}"}),
        # Conditional requests always go through Flask (the replay layer never answers them);
        # the public cache inside answers from its entry, a 304 or the whole body.
        "list-304": Request("/api/v1/posts?per_page=20", {"If-None-Match": blog.list_etag}),
        "post-stale": Request(f"/api/v1/posts/{blog.slug}", {"If-None-Match": '"stale"'}),
    }[hot.key]


# --- CPU accounting --------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a live process has used (0 when it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


def machine_busy_seconds() -> float:
    """CPU seconds every core has spent not idle since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = values
    # Interrupts are left out: the kernel's loopback traffic for our requests lands there,
    # charged to no process. Steal is another guest's work on our cores.
    return (user + nice + system + steal) / TICKS


def processes() -> dict[int, tuple[int, str]]:
    """Every process's parent and name."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        found[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), name)
    return found


def ours(include_postgres: bool) -> list[int]:
    """This process, everything it started (servers, their workers), and on PostgreSQL every
    `postgres` process (the server's backends work for our requests)."""
    table = processes()
    me = os.getpid()
    mine = []
    for pid, (_parent, name) in table.items():
        walk = pid
        while walk not in (0, 1, me) and walk in table:
            walk = table[walk][0]
        if walk == me or (include_postgres and name.startswith("postgres")):
            mine.append(pid)
    return mine


@dataclass
class CpuSnapshot:
    """CPU counters at one moment."""

    wall: float
    busy: float
    ours: dict[int, float]
    children: float  # reaped children (wrk)


def cpu_snapshot(include_postgres: bool) -> CpuSnapshot:
    """The machine's busy time, our processes' CPU and our reaped children's, now."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(
        time.monotonic(),
        machine_busy_seconds(),
        {pid: process_cpu_seconds(pid) for pid in ours(include_postgres)},
        usage.ru_utime + usage.ru_stime,
    )


def other_cores(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """Cores busy between two snapshots with work that was not ours: what else the machine ran
    during a measurement (0 on an idle machine, up to the number of cores)."""
    spent = sum(cpu - before.ours.get(pid, 0.0) for pid, cpu in after.ours.items())
    spent += after.children - before.children
    busy = after.busy - before.busy
    return max(0.0, busy - spent) / max(after.wall - before.wall, 1e-9)


def workers_cpu_seconds(server: LiveServer) -> float:
    """CPU seconds the server's workers have used so far."""
    return sum(process_cpu_seconds(pid) for pid in server.worker_pids())


# --- one side ----------------------------------------------------------------------------------


@dataclass
class Run:
    """One wrk run on one side: wrk's figures, the workers' CPU per request, other load."""

    wrk: WrkResult
    cpu_us: float  # the measured server's workers' CPU per request, microseconds
    other: float  # cores busy with work not this benchmark's during the run
    tries: int = 1  # runs made: a run disturbed by other work is made again
    waited: float = 0.0  # seconds spent waiting for a quiet machine first


@dataclass
class Side:
    """One side's server and the file its stdout and stderr go to."""

    name: str
    server: LiveServer
    log: Path


def measure_run(args: argparse.Namespace, side: Side, request: Request, postgres: bool) -> Run:
    """One bounded wrk run against one side, with its CPU accounting."""
    wrk = dict(seconds=args.seconds, connections=args.connections, threads=args.threads)
    snapshot = cpu_snapshot(postgres)
    workers = workers_cpu_seconds(side.server)
    result = run_wrk(
        f"{side.server.url}{request.path}", headers=request.headers, script=request.script, **wrk
    )
    spent = workers_cpu_seconds(side.server) - workers
    other = other_cores(snapshot, cpu_snapshot(postgres))
    return Run(result, spent / result.requests * 1e6 if result.requests else 0.0, other)


def quiet_moment(args: argparse.Namespace, postgres: bool) -> float:
    """Wait (at most --patience seconds) until other work keeps fewer than --quiet cores busy
    over 2 s; the seconds waited beyond that first look."""
    started = time.monotonic()
    while args.quiet:
        snapshot = cpu_snapshot(postgres)
        time.sleep(2)
        other = other_cores(snapshot, cpu_snapshot(postgres))
        if other < args.quiet or time.monotonic() - started > args.patience:
            break
        print(f"other work keeps {other:.2f} cores busy: waiting for a quiet machine", flush=True)
        time.sleep(20)
    return max(0.0, time.monotonic() - started - 2)


def undisturbed_run(args: argparse.Namespace, side: Side, request: Request, postgres: bool) -> Run:
    """A run begun on a quiet machine, made again (up to --tries runs) while other work kept
    --quiet cores or more busy during it; the last one made."""
    waited, tries = 0.0, 0
    while True:
        tries += 1
        waited += quiet_moment(args, postgres)
        run = measure_run(args, side, request, postgres)
        if not args.quiet or run.other < args.quiet or tries >= args.tries:
            break
        print(f"other work took {run.other:.2f} cores during the run: again", flush=True)
    run.tries, run.waited = tries, waited
    return run


def rotated(round_no: int) -> tuple[str, ...]:
    """The order of the sides in a round: A B C, then B C A, then C A B, …"""
    shift = round_no % len(SIDES)
    return SIDES[shift:] + SIDES[:shift]


def cache_hits(server: LiveServer) -> dict[str, float]:
    """The replay layer's and the public cache's hits so far (all workers), from /metrics."""
    text = requests.get(f"{server.url}/metrics", timeout=30).text
    hits = {"replay": 0.0, "public": 0.0}
    for family in text_string_to_metric_families(text):
        if family.name != "blogapi_cache_lookups":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels.get("result") == "hit":
                hits[sample.labels["cache"]] = hits.get(sample.labels["cache"], 0.0) + sample.value
    return hits


def send(side: Side, hot: HotPath, request: Request, times: int, clients: int = 1) -> None:
    """Send one request `times` times from `clients` threads at once; each must answer the hot
    path's status."""
    url = f"{side.server.url}{request.path}"

    def one(_: int) -> None:
        reply = requests.get(url, headers=request.headers, timeout=30)
        if reply.status_code != hot.status:
            raise RuntimeError(
                f"{side.name} {hot.name}: {reply.status_code}, not {hot.status}: {reply.text[:200]}"
            )

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(times)))


def path_taken(side: Side, hot: HotPath, request: Request) -> str:
    """Which path answers a warm request, from a side's own metrics: `replay` (each of CHECKS
    requests a replay hit), `public` (none replayed, each a hit of the public cache inside
    Flask), `flask` (neither), `mixed` otherwise. Every worker gets its first requests first:
    one that meets a token or a page for the first time answers it through Flask, and
    requests sent one at a time may all reach the same worker."""
    send(side, hot, request, 4 * CHECKS, clients=4)
    start = cache_hits(side.server)
    send(side, hot, request, CHECKS)
    end = cache_hits(side.server)
    replayed, public = (end[cache] - start[cache] for cache in ("replay", "public"))
    if replayed >= CHECKS:
        return "replay"
    if replayed == 0:
        return "public" if public >= CHECKS else "flask"
    return "mixed"


def check_sides(sides: dict[str, Side], base: Path) -> None:
    """Each server runs the code it should: the instrumented sides return a request id, the
    base returns one only when its tree has the instrumentation (a --base-tree of this tree)."""
    base_has_it = (base / "blogapi" / "observability").exists()
    for side in sides.values():
        reply = requests.get(f"{side.server.api}/health", timeout=30)
        expected = side.name != BEFORE or base_has_it
        if (REQUEST_ID in reply.headers) != expected:
            raise RuntimeError(f"{side.name}: not running the code it should ({reply.headers})")


@dataclass
class DatabaseResult:
    """Everything measured on one database."""

    database: str
    label: str
    hot_paths: list[HotPath]
    runs: dict[str, dict[str, list[Run]]] = field(default_factory=dict)  # key, side: rounds
    paths: dict[str, str] = field(default_factory=dict)  # key: the path it took (after side)
    logs: dict[str, tuple[int, int]] = field(default_factory=dict)  # side: lines, bytes
    load: dict[str, str] = field(default_factory=dict)  # `uptime`, when


def side_env(
    args: argparse.Namespace, side: str, url: str, workdir: Path, tree: Path
) -> dict[str, str]:
    """One side's database migrated and seeded by that side's own code; its server
    environment."""
    slug = side_slug(side)
    if side == BEFORE:
        env = prepare_in(tree, workdir, args.posts, url)
        # Its own gunicorn.conf.py, not ours (gunicorn reads the one where it starts).
        env["GUNICORN_CMD_ARGS"] += f" --config {tree / 'gunicorn.conf.py'}"
    else:
        env = prepare_database(workdir, args.posts, url, name=slug)
        env.update(ACCESS_LOG="true" if side == AFTER else "false", LOG_FORMAT="json")
        env.update(LOG_LEVEL="INFO")
    for name in ("PROMETHEUS_MULTIPROC_DIR", "METRICS_ENABLED", "METRICS_ALLOW"):
        env.pop(name, None)  # production's defaults: gunicorn.conf.py makes the folder
    (workdir / slug).mkdir(exist_ok=True)
    # The job queue file of this side's own; tokens that outlive the run.
    env.update(BLOGAPI_INSTANCE_DIR=str(workdir / slug), JWT_ACCESS_TOKEN_EXPIRES=TOKEN_MINUTES)
    return env


def side_slug(side: str) -> str:
    """A side's name in file and database names: before, after, after_log_off."""
    return {BEFORE: "before", AFTER: "after", LOG_OFF: "after_log_off"}[side]


def side_envs(
    args: argparse.Namespace,
    kind: str,
    admin_url: str | None,
    workdir: Path,
    tree: Path,
    stack: ExitStack,
) -> dict[str, dict[str, str]]:
    """A new database for each side (dropped when `stack` closes), the three prepared at once;
    each side's server environment."""
    urls = {}
    for side in SIDES:
        urls[side] = new_database(
            kind, workdir, f"observability_{side_slug(side)}", admin_url, BENCH
        )
        stack.callback(drop_database, urls[side], admin_url)
    with ThreadPoolExecutor(len(SIDES)) as pool:
        futures = {s: pool.submit(side_env, args, s, urls[s], workdir, tree) for s in SIDES}
        return {side: future.result() for side, future in futures.items()}


def log_size(path: Path) -> tuple[int, int]:
    """Lines and bytes in a log file."""
    if not path.exists():
        return 0, 0
    data = path.read_bytes()
    return data.count(b"\n"), len(data)


def settled_log_sizes(sides: dict[str, Side]) -> dict[str, tuple[int, int]]:
    """Each side's log size once its workers have written out the access lines they gather
    (at least a second apart)."""
    time.sleep(CHORES_EVERY + 0.5)
    return {name: log_size(side.log) for name, side in sides.items()}


@contextmanager
def running_sides(
    args: argparse.Namespace, envs: dict[str, dict[str, str]], workdir: Path
) -> Iterator[dict[str, Side]]:
    """The three servers, started together and stopped together; the stdout and stderr of
    each to a file on disk."""
    sides = {
        name: Side(
            name,
            LiveServer(env, workers=args.workers, log_path=workdir / f"{side_slug(name)}.log"),
            workdir / f"{side_slug(name)}.log",
        )
        for name, env in envs.items()
    }
    with ExitStack() as stack:
        for side in sides.values():
            stack.callback(side.server.stop)
        with ThreadPoolExecutor(len(sides)) as pool:
            for started in [pool.submit(side.server.start) for side in sides.values()]:
                started.result()
        yield sides


def measure_database(
    args: argparse.Namespace, kind: str, workdir: Path, tree: Path
) -> DatabaseResult:
    """Prepare the three sides on this kind of database and measure every hot path."""
    hot_paths = [hot for hot in HOT_PATHS if hot.key in args.only]
    postgres = kind == "postgresql"
    with ExitStack() as stack:
        url, label = database_url(args, kind, workdir, stack)
        envs = side_envs(args, kind, url if postgres else None, workdir, tree, stack)
        result = DatabaseResult(kind, label, hot_paths, load={"start": uptime()})
        with running_sides(args, envs, workdir) as sides:
            check_sides(sides, tree)
            blogs = {name: blog_of(side.server.api) for name, side in sides.items()}
            wanted = {
                (hot.key, name): request_for(hot, blogs[name])
                for hot in hot_paths
                for name in sides
            }
            for hot in hot_paths:
                for name, side in sides.items():
                    request = wanted[hot.key, name]
                    if args.warmup:
                        url = f"{side.server.url}{request.path}"
                        wrk = dict(connections=args.connections, threads=args.threads)
                        run_wrk(url, headers=request.headers, seconds=args.warmup, **wrk)
                    send(side, hot, request, CHECKS)
                    if name == AFTER:
                        result.paths[hot.key] = path_taken(side, hot, request)
            logged = settled_log_sizes(sides)
            result.runs = {hot.key: {name: [] for name in SIDES} for hot in hot_paths}
            for round_no in range(args.rounds):
                for hot in hot_paths:
                    for name in rotated(round_no):
                        run = undisturbed_run(args, sides[name], wanted[hot.key, name], postgres)
                        result.runs[hot.key][name].append(run)
                        print(
                            f"{kind} round {round_no + 1} {hot.key} {name}: "
                            f"{run.wrk.requests_per_second:,.0f}/s, p50 {run.wrk.p50_ms:.2f} ms, "
                            f"{run.cpu_us:.0f} µs CPU/request, other load {run.other:.2f} cores",
                            flush=True,
                        )
                result.load[f"after round {round_no + 1}"] = uptime()
            for name, (lines, size) in settled_log_sizes(sides).items():
                result.logs[name] = (lines - logged[name][0], size - logged[name][1])
    return result


# --- the report ------------------------------------------------------------------------------


def median(runs: list[Run], figure: str) -> float:
    """The median of one figure over rounds (wrk's, or the run's own)."""
    if figure in ("cpu_us", "other"):
        return float(statistics.median(getattr(run, figure) for run in runs))
    return float(statistics.median(getattr(run.wrk, figure) for run in runs))


def ratio(runs: dict[str, list[Run]], side: str) -> float:
    """The median over the rounds of a side's requests/s over the base's in the same round: a
    round's sides run back to back, so a slow spell of a shared machine weighs on both sides
    of a ratio rather than on one side's median."""
    paired = [
        run.wrk.requests_per_second / base.wrk.requests_per_second
        for run, base in zip(runs[side], runs[BEFORE], strict=True)
        if base.wrk.requests_per_second
    ]
    return float(statistics.median(paired)) if paired else 0.0


def within_budget(value: float) -> str:
    """The issue's budget, met or not."""
    return "met" if value >= BUDGET else "**not met**"


def three(runs: dict[str, list[Run]], figure: str, fmt: str) -> str:
    """One figure's medians for the three sides, `before / after / log off`."""
    return " / ".join(format(median(runs[side], figure), fmt) for side in SIDES)


PATH_NAMES = {"replay": "replayed", "public": "Flask, public cache", "flask": "Flask"}


def database_table(result: DatabaseResult) -> list[str]:
    """One database's table, its rounds and its access log figures."""
    lines = [
        f"## {result.label}",
        "",
        row(
            "request",
            "path",
            "before req/s",
            "after req/s",
            "after / before",
            "log off req/s",
            "log off / before",
            "budget (≥ 0.95)",
            "p50 ms before / after / off",
            "p99 ms before / after / off",
            "worker CPU µs/req before / after / off",
            "errors",
        ),
        "|---|---|---:|---:|---:|---:|---:|---|---|---|---|---:|",
    ]
    for hot in result.hot_paths:
        runs = result.runs[hot.key]
        after = ratio(runs, AFTER)
        errors = sum(r.wrk.non_2xx + r.wrk.errors for side in SIDES for r in runs[side])
        lines.append(
            row(
                hot.name,
                PATH_NAMES.get(result.paths.get(hot.key, ""), "mixed"),
                f"{median(runs[BEFORE], 'requests_per_second'):,.0f}",
                f"{median(runs[AFTER], 'requests_per_second'):,.0f}",
                f"{after:.3f}",
                f"{median(runs[LOG_OFF], 'requests_per_second'):,.0f}",
                f"{ratio(runs, LOG_OFF):.3f}",
                within_budget(after),
                three(runs, "p50_ms", ".2f"),
                three(runs, "p99_ms", ".2f"),
                three(runs, "cpu_us", ",.0f"),
                str(errors),
            )
        )
    lines += [
        "",
        "Each round, req/s before / after / log off (after / before, log off / before):",
        "",
    ]
    for hot in result.hot_paths:
        runs = result.runs[hot.key]
        rounds = []
        for n, triple in enumerate(zip(*(runs[side] for side in SIDES), strict=True)):
            rps = [r.wrk.requests_per_second for r in triple]
            rounds.append(
                f"{n + 1}: {' / '.join(f'{x:,.0f}' for x in rps)} "
                f"({rps[1] / rps[0]:.3f}, {rps[2] / rps[0]:.3f})"
            )
        lines.append(f"- {hot.name}: " + "; ".join(rounds))
    made = [r for runs in result.runs.values() for side in SIDES for r in runs[side]]
    others = [r.other for r in made]
    lines += [
        "",
        "Load (`uptime` 1/5/15 min): "
        + "; ".join(f"{when}: {value}" for when, value in result.load.items())
        + ". Other work during the runs kept (cores busy with processes not this benchmark's): "
        + (f"median {statistics.median(others):.2f}, max {max(others):.2f}" if others else "-")
        + f"; runs made again for it: {sum(r.tries - 1 for r in made)}; waited for a quiet "
        f"machine: {sum(r.waited for r in made):,.0f} s.",
        "",
    ]
    if result.logs:
        lines.append(
            "Written to the servers' stderr files during the runs (the access log, JSON): "
            + "; ".join(
                f"{side} {n:,} lines, {size / 1e6:,.1f} MB"
                + (f" ({size / n:,.0f} B a line)" if n else "")
                for side, (n, size) in result.logs.items()
            )
            + "."
        )
        lines.append("")
    return lines


def report(args: argparse.Namespace, results: list[DatabaseResult]) -> str:
    """The Markdown report."""
    lines = [
        "# Observability overhead (issue 21)",
        "",
        f"Machine: {machine()}. Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at "
        f"{commit()}. Command: `{args.command}`.",
        "",
        f"Sides, each on its own database seeded with {args.posts:,} posts by its own code, "
        f"under gunicorn ({args.workers} sync workers, production config) on loopback: "
        f"`before` is {args.base_commit}, the last commit before any instrumentation (served "
        "from a temporary git worktree by the same venv, with its own gunicorn.conf.py); "
        "`after` is this tree with the production defaults (request ids, ACCESS_LOG on, JSON "
        "log lines, Prometheus metrics in multiprocess mode); `after, access log off` the "
        "same with ACCESS_LOG=false. Each server's stdout and stderr (where the access log "
        "goes) are written to a file on disk, as in production, not to /dev/null.",
        "",
        f"wrk {args.threads} threads, {args.connections} connections, {args.seconds} s a run, "
        f"{args.rounds} rounds; in each round every request runs on the three sides in turn, "
        "the order rotated from round to round (before, after, off; then after, off, before; "
        f"…), after a {args.warmup} s warm-up of each. Medians over the rounds; a ratio is "
        "the median of the rounds' own ratios (a round's three sides run back to back). "
        "`path`: how the instrumented side answered the request, read from its own /metrics "
        "(`replayed`: by the replay layer before Flask; `Flask, public cache`: through "
        "Flask, answered from its public cache). Worker CPU: user + system "
        "time of the measured server's gunicorn workers over the run, per request served (wrk "
        "and the database server excluded). Each run begins once other work keeps fewer than "
        f"{args.quiet} cores busy, and is made again (up to {args.tries} runs) when other work "
        "kept that many busy during it. Budget (issue 21): after / before at least "
        f"{BUDGET:.2f}.",
        "",
    ]
    for result in results:
        lines += database_table(result)
    return "\n".join(lines)


# --- running it ------------------------------------------------------------------------------


def hot_path_keys(text: str) -> list[str]:
    """--only's value: comma-separated keys of HOT_PATHS."""
    chosen = [key for key in text.split(",") if key]
    unknown = set(chosen) - set(KEYS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose among {', '.join(KEYS)}")
    return chosen


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database",
        dest="databases",
        type=databases_arg,
        default=["sqlite"],
        metavar="{sqlite,postgresql,both}",
        help="default: sqlite; postgresql runs in a throwaway cluster",
    )
    parser.add_argument("--posts", type=int, default=1000, help="seeded on each side")
    add_wrk_options(parser, seconds=3, rounds=7)
    parser.add_argument("--warmup", type=int, default=2, help="seconds of wrk before the runs")
    parser.add_argument(
        "--quiet",
        type=float,
        default=0.2,
        help="cores other work may keep busy: a run waits below it, and is made again when "
        "other work went above it during the run (0: never wait)",
    )
    parser.add_argument("--tries", type=int, default=3, help="runs made at most, disturbed")
    parser.add_argument("--patience", type=float, default=1800, help="seconds of waiting")
    parser.add_argument("--only", type=hot_path_keys, default=list(KEYS), help=",".join(KEYS))
    parser.add_argument(
        "--database-url", help="an existing PostgreSQL server to make the three databases on"
    )
    parser.add_argument("--base-commit", default=BASE_COMMIT)
    parser.add_argument(
        "--base-tree", type=Path, help="a checkout of the base code (default: a new worktree)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "observability.md")
    args = parser.parse_args(argv)
    args.databases_chosen = True
    args.command = shlex.join(["python", "-m", BENCH, *(sys.argv[1:] if argv is None else argv)])
    return args


def run(args: argparse.Namespace) -> list[DatabaseResult]:
    """Measure on each database in turn, writing the report after each."""
    results: list[DatabaseResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="blogapi-observability-bench-") as tmp,
        ExitStack() as stack,
    ):
        workdir = Path(tmp)
        tree = stack.enter_context(base_tree(args, workdir))
        for kind in databases_here(args):
            (workdir / kind).mkdir()
            results.append(measure_database(args, kind, workdir / kind, tree))
            args.output.write_text(report(args, results) + "\n")  # after each, in case of a stop
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write the report."""
    args = parse_args(argv)
    stop_on_sigterm()
    subprocess.run([str(ROOT / "scripts" / "install-system-deps"), "--bench"], check=True)
    run(args)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
