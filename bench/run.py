"""Benchmark blogapi against bare Flask under identical gunicorn settings, on loopback, on SQLite
and on a throwaway PostgreSQL cluster (issue 20's request types, writes, memory, SQL counts).

    python -m bench.run                        # both databases, 100,000 posts each
    python -m bench.run --database sqlite      # one of them
    python -m bench.run --quick                # a smoke run: small seed, short runs, one round
    python -m bench.run --no-compare --scaling 1000,10000,100000,1000000
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests

from bench.report import write_report, write_scaling
from bench.wrk import add_wrk_options, run_wrk
from devtools.binaries import find_pg_bindir
from devtools.live import ROOT, LiveServer, migrate, production_env

PASSWORD = "benchmark passphrase 2026"
RESULTS = ROOT / "bench" / "results"
DATABASES = ("sqlite", "postgresql")
# The write benchmark is one author posting as fast as it can: no per-user write limit.
WRITER_LIMITS = {"POST_WRITE_RATE_LIMIT": "1000000 per minute"}
# --quick: enough to prove every step works, in a few minutes for both databases.
QUICK = {"posts": 2_000, "seconds": 2, "rounds": 1}
# The throwaway cluster as production runs PostgreSQL: every commit flushed to disk (the test
# servers turn this off for speed), so the write figures mean what a deployment would see.
DURABLE_POSTGRES = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run `python manage.py ARGS` against the bench database."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    return result.stdout


def seed_posts(env: dict[str, str], posts: int) -> float:
    """`manage.py seed` of `posts` posts by 50 users (seed 1); the seconds it took."""
    started = time.perf_counter()
    manage(env, "seed", "--users", "50", "--posts", str(posts), "--seed", "1")
    seconds = time.perf_counter() - started
    print(f"seeded {posts} posts in {seconds:.1f}s", flush=True)
    return seconds


def create_user(env: dict[str, str], username: str, role: str) -> None:
    """A user with the bench password and this role."""
    manage(
        env,
        *("create-user", username, "--email", f"{username}@example.com", "--role", role),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )


def prepare_database(
    workdir: Path, posts: int, database_url: str | None, name: str = "bench"
) -> dict[str, str]:
    """A migrated, seeded database and a bench author; returns the server environment."""
    url = database_url or f"sqlite:///{workdir / f'{name}-{posts}.db'}"
    env = production_env(url, **WRITER_LIMITS)
    migrate(env)
    seed_posts(env, posts)
    create_user(env, "bencher", "author")
    return env


def login(api: str, username: str = "bencher") -> str:
    """An access token for a bench user (the author unless named)."""
    response = requests.post(
        f"{api}/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def cursor_at_depth(api: str, depth: int) -> str:
    """The cursor `depth` posts into the public list, found by paging with cursors."""
    cursor, seen = None, 0
    while seen < depth:
        params: dict[str, Any] = {"per_page": 100}
        if cursor:
            params["cursor"] = cursor
        page = requests.get(f"{api}/posts", params=params, timeout=30).json()
        seen += len(page["items"])
        cursor = page["meta"]["next_cursor"]
        if not cursor:
            raise RuntimeError(f"the list ends after {seen} posts, before depth {depth}")
    return str(cursor)


def create_and_publish_rate(
    api: str, token: str, seconds: float, clients: int = 4
) -> dict[str, float]:
    """POST /posts then POST /posts/{id}/publish, by `clients` threads for `seconds`."""
    headers = {"Authorization": f"Bearer {token}"}
    done: list[float] = []
    failures: list[int] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            start = time.perf_counter()
            created = session.post(
                f"{api}/posts",
                headers=headers,
                timeout=30,
                json={"title": "Bench post", "body": "Some *Markdown* body."},
            )
            if created.status_code != 201:
                failures.append(created.status_code)
                continue
            published = session.post(
                f"{api}/posts/{created.json()['id']}/publish", headers=headers, timeout=30
            )
            if published.status_code != 200:
                failures.append(published.status_code)
                continue
            done.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.sort()
    return {
        "pairs_per_second": len(done) / seconds,
        "p50_ms": done[len(done) // 2] if done else 0.0,
        "p99_ms": done[int(len(done) * 0.99)] if done else 0.0,
        "failures": len(failures),
    }


def queries_per_request(
    env: dict[str, str],
    paths: dict[str, tuple[str, str, dict[str, str]]],
    base_url: str | None = None,
) -> dict[str, list[int]]:
    """SQL statements each request type runs, counted in-process against the bench database
    the way the tests' statement guards count them (BEGIN aside, the content version read on
    a thread's own connection included): [statements once warm, status, statements of the
    first request]. Warm is the third identical request: a token is verified on its first use
    and a signed-in answer stored on the next, so from the third on a request meets what it
    meets under load. The status is there so a refused request is not read as a cheap one."""
    code = (
        "import json, sys\n"
        "from blogapi import create_app\n"
        "from tests.support.databases import counted_queries\n"
        "app = create_app()\n"
        "client = app.test_client()\n"
        "counts = {}\n"
        "request = json.loads(sys.stdin.read())\n"
        "site = {'base_url': request['base_url']} if request['base_url'] else {}\n"
        "for name, (method, path, headers) in request['paths'].items():\n"
        "    sent_by_request = []\n"
        "    for _ in range(3):\n"
        "        with counted_queries(app) as sent:\n"
        "            response = client.open(path, method=method, headers=headers, **site)\n"
        "        sent_by_request.append(len(sent))\n"
        "    counts[name] = [sent_by_request[-1], response.status_code, sent_by_request[0]]\n"
        "print(json.dumps(counts))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        input=json.dumps({"paths": paths, "base_url": base_url}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    counts: dict[str, list[int]] = json.loads(result.stdout.strip().splitlines()[-1])
    return counts


def process_memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A /proc/<pid>/status memory field of a process in MB (VmHWM: peak resident, VmRSS:
    resident now); 0 when the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_memory_mb(server: LiveServer, field: str = "VmHWM") -> list[float]:
    """A /proc/<pid>/status memory field (VmHWM: peak resident, VmRSS: resident now) of each
    of the server's workers, in MB."""
    return [process_memory_mb(pid, field) for pid in server.worker_pids()]


def peak_worker_memory_mb(server: LiveServer) -> float:
    """The largest peak resident size (VmHWM) among the server's workers."""
    return max(worker_memory_mb(server), default=0.0)


@contextmanager
def bare_and_blogapi(
    env: dict[str, str], workers: int, workdir: Path
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Bare Flask and blogapi under the same gunicorn settings, started and stopped together."""
    with (
        LiveServer(
            dict(env, PYTHONPATH=str(ROOT)),
            workers=workers,
            app="bench.bare_app:create_app()",
            health_path="/",
            log_path=workdir / "bare.log",
        ) as bare,
        LiveServer(env, workers=workers, log_path=workdir / "blogapi.log") as ours,
    ):
        yield bare, ours


def scaling(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    """List cost at each database size: first page and a cursor 30% deep, cached and not."""
    rows = []
    miss = ROOT / "bench" / "uncached.lua"
    wrk = dict(
        seconds=max(3, args.seconds // 2), connections=args.connections, threads=args.threads
    )
    for size in args.scaling:
        env = prepare_database(workdir, size, None, name="scale")
        with LiveServer(env, workers=args.workers, log_path=workdir / f"scale-{size}.log") as ours:
            published = requests.get(f"{ours.api}/posts?per_page=1", timeout=30).json()
            depth = max(20, int(published["meta"]["total"] * 0.3) // 100 * 100)
            deep = cursor_at_depth(ours.api, depth)
            first_url = f"{ours.url}/api/v1/posts?per_page=20"
            deep_url = f"{first_url}&cursor={deep}"
            row = {"posts": size, "depth": depth}
            row["first"] = run_wrk(first_url, **wrk)
            row["deep"] = run_wrk(deep_url, **wrk)
            row["first_miss"] = run_wrk(first_url, script=miss, **wrk)
            row["deep_miss"] = run_wrk(deep_url, script=miss, **wrk)
            row["memory_mb"] = peak_worker_memory_mb(ours)
            rows.append(row)
        print(
            f"scaling {size}: uncached first {row['first_miss'].requests_per_second:.0f}/s, "
            f"uncached deep {row['deep_miss'].requests_per_second:.0f}/s",
            flush=True,
        )
        Path(env["DATABASE_URL"].removeprefix("sqlite:///")).unlink(missing_ok=True)
    return rows


def database_kind(url: str) -> str:
    """'sqlite' or 'postgresql', from a SQLAlchemy URL."""
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def databases_arg(text: str) -> list[str]:
    """--database: sqlite, postgresql or both."""
    if text == "both":
        return list(DATABASES)
    if text not in DATABASES:
        raise argparse.ArgumentTypeError(f"choose sqlite, postgresql or both, not {text!r}")
    return [text]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        dest="databases",
        type=databases_arg,
        default=None,
        metavar="{sqlite,postgresql,both}",
        help="default: both, or the kind of --database-url alone",
    )
    parser.add_argument("--posts", type=int, default=100_000, help="posts seeded per database")
    parser.add_argument("--deep", type=int, default=30_000, help="cursor depth in posts")
    add_wrk_options(parser)
    parser.add_argument(
        "--database-url",
        help="an existing empty database to use for its kind, instead of a new SQLite file or "
        "a throwaway PostgreSQL cluster",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a smoke run: {QUICK['posts']:,} posts, {QUICK['seconds']} s runs, one round; "
        "writes quick.md and quick.png instead of latest.*",
    )
    parser.add_argument(
        "--scaling",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[],
        help="comma-separated sizes, e.g. 1000,10000,100000,1000000 (SQLite)",
    )
    parser.add_argument("--no-compare", action="store_true", help="only the scaling runs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.databases_chosen = args.databases is not None
    if args.databases is None:
        args.databases = [database_kind(args.database_url)] if args.database_url else DATABASES
    args.databases = list(args.databases)
    if args.quick:
        vars(args).update(QUICK)
    args.report_name = "quick" if args.quick else "latest"
    args.command = shlex.join(
        ["python", "-m", "bench.run", *(sys.argv[1:] if argv is None else argv)]
    )
    return args


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every server and cluster started is stopped."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def database_url(
    args: argparse.Namespace, database: str, workdir: Path, stack: ExitStack
) -> tuple[str, str]:
    """The URL this run's `database` is measured on, and a label naming it and its version:
    --database-url when it is of this kind, else a new SQLite file or a database in a
    throwaway PostgreSQL cluster (stopped when `stack` closes)."""
    if args.database_url and database_kind(args.database_url) == database:
        return args.database_url, database_label(args.database_url, "given by --database-url")
    if database == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
        return url, database_label(url, "a new file, WAL, synchronous=NORMAL")
    from devtools.postgres_server import PostgresServer

    pg = stack.enter_context(PostgresServer("blogapi_bench", settings=DURABLE_POSTGRES))
    return pg.url, database_label(pg.url, "a throwaway cluster on loopback, fsync on")


def database_label(url: str, where: str) -> str:
    """'SQLite 3.40.1 (where)' or 'PostgreSQL 15.8 (where)'."""
    if database_kind(url) == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({where})"
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = row[0].split()[0] if row else "?"
    return f"PostgreSQL {version} ({where})"


def databases_here(args: argparse.Namespace) -> list[str]:
    """The databases to measure: PostgreSQL only where its server binaries are (or a
    --database-url names a server); asked for by name without them, the run stops."""
    own_server = args.database_url and database_kind(args.database_url) == "postgresql"
    if "postgresql" not in args.databases or own_server or find_pg_bindir() is not None:
        return list(args.databases)
    if args.databases_chosen:
        raise SystemExit(
            "PostgreSQL server binaries (initdb) not found: install them or set PG_BINDIR"
        )
    print("PostgreSQL server binaries not found: measuring SQLite only", file=sys.stderr)
    return [database for database in args.databases if database != "postgresql"]


def compare(args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, Any]]:
    """Every request type, writes and memory on each database in turn, by database."""
    # bench.scenarios builds on bench.media and bench.site, which build on this module.
    from bench.scenarios import measure_database

    results = {}
    for database in databases_here(args):
        (workdir / database).mkdir()
        with ExitStack() as stack:
            url, label = database_url(args, database, workdir / database, stack)
            results[database] = measure_database(args, database, url, workdir / database)
            results[database]["label"] = label
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark and write the report."""
    args = parse_args(argv)
    stop_on_sigterm()
    subprocess.run([str(ROOT / "scripts" / "install-system-deps"), "--bench"], check=True)
    with tempfile.TemporaryDirectory(prefix="blogapi-bench-") as tmp:
        workdir = Path(tmp)
        if not args.no_compare:
            written = write_report(args, compare(args, workdir), args.output)
            print(f"wrote {' and '.join(str(path) for path in written)}")
        if args.scaling:
            write_scaling(args, scaling(args, workdir), args.output)
            print(f"wrote {args.output / 'scaling.md'} and {args.output / 'scaling.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
