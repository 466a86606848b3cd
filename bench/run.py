"""Benchmark blogapi against bare Flask under identical gunicorn settings, on loopback.

    python -m bench.run                 # 100,000 posts, the table and chart in bench/results/
    python -m bench.run --scaling 1000,10000,100000,1000000
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bench.report import write_report, write_scaling
from bench.wrk import Request, add_wrk_options, alternate, run_wrk
from devtools.live import ROOT, LiveServer, migrate, production_env

PASSWORD = "benchmark passphrase 2026"
RESULTS = ROOT / "bench" / "results"


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


def prepare_database(
    workdir: Path, posts: int, database_url: str | None, name: str = "bench"
) -> dict[str, str]:
    """A migrated, seeded database and a bench author; returns the server environment."""
    url = database_url or f"sqlite:///{workdir / f'{name}-{posts}.db'}"
    # The write benchmark is one author posting as fast as it can: no per-user write limit.
    env = production_env(url, POST_WRITE_RATE_LIMIT="1000000 per minute")
    migrate(env)
    started = time.perf_counter()
    manage(env, "seed", "--users", "50", "--posts", str(posts), "--seed", "1")
    print(f"seeded {posts} posts in {time.perf_counter() - started:.1f}s", flush=True)
    manage(
        env,
        "create-user",
        "bencher",
        "--email",
        "bench@example.com",
        "--role",
        "author",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    return env


def login(api: str) -> str:
    """An access token for the bench author."""
    response = requests.post(
        f"{api}/auth/login", json={"username": "bencher", "password": PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return response.json()["access_token"]


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
    return cursor


def create_and_publish_rate(api: str, token: str, seconds: float, clients: int = 4) -> dict:
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


def queries_per_request(env: dict[str, str], paths: dict[str, tuple[str, str, dict]]) -> dict:
    """SQL statements each request type runs, counted in-process against the bench database."""
    code = (
        "import json, sys\n"
        "from sqlalchemy import event\n"
        "from blogapi import create_app\n"
        "from blogapi.extensions import db\n"
        "app = create_app()\n"
        "client = app.test_client()\n"
        "counts = {}\n"
        "paths = json.loads(sys.stdin.read())\n"
        "with app.app_context():\n"
        "    engine = db.engine\n"
        "seen = []\n"
        "event.listen(engine, 'before_cursor_execute', lambda *a, **k: seen.append(1))\n"
        "for name, (method, path, headers) in paths.items():\n"
        "    client.open(path, method=method, headers=headers)\n"
        "    seen.clear()\n"
        "    response = client.open(path, method=method, headers=headers)\n"
        "    counts[name] = [len(seen), response.status_code]\n"
        "print(json.dumps(counts))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        input=json.dumps(paths),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def worker_memory_mb(server: LiveServer, field: str = "VmHWM") -> list[float]:
    """A /proc/<pid>/status memory field (VmHWM: peak resident, VmRSS: resident now) of each
    of the server's workers, in MB."""
    sizes = []
    for pid in server.worker_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


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


def compare(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """Alternate wrk runs between bare Flask and blogapi for each request type."""
    with bare_and_blogapi(env, args.workers, workdir) as (bare, ours):
        token = login(ours.api)
        slug = requests.get(f"{ours.api}/posts?per_page=1", timeout=30).json()["items"][0]["slug"]
        deep = cursor_at_depth(ours.api, args.deep)
        auth = {"Authorization": f"Bearer {token}"}
        scenarios = {
            "GET /posts?per_page=20": Request("/api/v1/posts?per_page=20"),
            f"GET /posts cursor ~{args.deep:,} deep": Request(
                f"/api/v1/posts?per_page=20&cursor={deep}"
            ),
            "GET /posts/{slug}": Request(f"/api/v1/posts/{slug}"),
            "GET /auth/me (bearer)": Request("/api/v1/auth/me", auth),
        }
        runs = alternate(args, bare.url, ours.url, scenarios)
        writes = create_and_publish_rate(ours.api, token, args.seconds)
        memory = peak_worker_memory_mb(ours)
        bare_memory = peak_worker_memory_mb(bare)
    queries = queries_per_request(
        env,
        {
            "list": ("GET", "/api/v1/posts?per_page=20", {}),
            "deep cursor": ("GET", f"/api/v1/posts?per_page=20&cursor={deep}", {}),
            "single post": ("GET", f"/api/v1/posts/{slug}", {}),
            "me": ("GET", "/api/v1/auth/me", auth),
        },
    )
    return {
        "runs": runs,
        "writes": writes,
        "memory_mb": memory,
        "bare_memory_mb": bare_memory,
        "queries": queries,
        "scenarios": list(scenarios),
    }


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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--deep", type=int, default=30_000, help="cursor depth in posts")
    add_wrk_options(parser)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument(
        "--scaling",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[],
        help="comma-separated sizes, e.g. 1000,10000,100000,1000000",
    )
    parser.add_argument("--no-compare", action="store_true", help="only the scaling runs")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the whole benchmark and write the report."""
    args = parse_args(argv)
    subprocess.run([str(ROOT / "scripts" / "install-system-deps"), "--bench"], check=True)
    with tempfile.TemporaryDirectory(prefix="blogapi-bench-") as tmp:
        workdir = Path(tmp)
        if not args.no_compare:
            env = prepare_database(workdir, args.posts, args.database_url)
            write_report(args, compare(args, env, workdir), args.output)
            print(f"wrote {args.output / 'latest.md'} and {args.output / 'latest.png'}")
        if args.scaling:
            write_scaling(args, scaling(args, workdir), args.output)
            print(f"wrote {args.output / 'scaling.md'} and {args.output / 'scaling.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
