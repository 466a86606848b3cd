"""Public face benchmark: cached feeds and reader pages against bare Flask, the uncached feed,
and how both cost at growing numbers of posts.

    python -m bench.site                          # 1,000 and 100,000 posts, 3 rounds of 10 s
    python -m bench.site --sizes 1000,1000000     # cost flat from 1,000 to 1,000,000 posts
See bench/README.md, "Feeds and reader pages".
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from bench.report import machine, row
from bench.run import RESULTS, bare_and_blogapi, prepare_database
from bench.wrk import Request, add_wrk_options, alternate
from devtools.live import ROOT

GOAL = 0.6
MISS = ROOT / "bench" / "uncached.lua"  # a unique query parameter: every request misses


def scenarios(api: str) -> dict[str, Request]:
    """The requests measured on a seeded blog, by name."""
    slug = requests.get(f"{api}/posts?per_page=1", timeout=30).json()["items"][0]["slug"]
    return {
        "cached `/feed.atom`": Request("/feed.atom"),
        "cached `/feed.json`": Request("/feed.json"),
        "cached `/posts/{slug}` page": Request(f"/posts/{slug}"),
        "cached `/` page": Request("/"),
        "uncached `/feed.atom` (20 full posts)": Request("/feed.atom", script=MISS),
        "uncached `/posts/{slug}` page": Request(f"/posts/{slug}", script=MISS),
    }


def measure(args: argparse.Namespace, size: int, workdir: Path) -> dict[str, Any]:
    """Seed `size` posts, then alternate wrk runs against bare Flask and each request."""
    env = prepare_database(workdir, size, args.database_url, name="site")
    with bare_and_blogapi(env, args.workers, workdir) as (bare, ours):
        named = scenarios(ours.api)
        for request in named.values():
            reply = requests.get(f"{ours.url}{request.path}", timeout=30)
            assert reply.status_code == 200, (request.path, reply.status_code)
        runs = alternate(args, bare.url, ours.url, named, label=f"{size:,} posts, ")
    if not args.database_url:
        Path(env["DATABASE_URL"].removeprefix("sqlite:///")).unlink(missing_ok=True)
    return {"size": size, "runs": runs}


def table(result: dict[str, Any]) -> list[str]:
    """One size's results as Markdown rows."""
    lines = [
        f"### {result['size']:,} posts",
        "",
        row(
            "request", "blogapi req/s", "bare Flask", "ratio", "goal", "p50 ms", "p99 ms", "errors"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, runs in result["runs"].items():
        ratio = statistics.median(m.requests_per_second / b.requests_per_second for b, m in runs)
        goal = (
            "report"
            if name.startswith("uncached")
            else (f"≥ {GOAL:.2f} ({'met' if ratio >= GOAL else 'not met'})")
        )
        lines.append(
            row(
                name,
                f"{statistics.median(m.requests_per_second for _, m in runs):,.0f}",
                f"{statistics.median(b.requests_per_second for b, _ in runs):,.0f}",
                f"{ratio:.2f}",
                goal,
                f"{statistics.median(m.p50_ms for _, m in runs):.2f}",
                f"{statistics.median(m.p99_ms for _, m in runs):.2f}",
                f"{sum(m.non_2xx + m.errors for _, m in runs)}",
            )
        )
    return [*lines, ""]


def report(args: argparse.Namespace, results: list[dict[str, Any]]) -> str:
    """The results as Markdown."""
    database = "SQLite" if not args.database_url else args.database_url.split(":")[0]
    lines = [
        f"# Feeds and reader pages benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. gunicorn {args.workers} sync workers for both apps, production "
        f"mode, database {database}; wrk {args.threads} threads, {args.connections} "
        f"connections, {args.seconds}s per run, {args.rounds} alternating rounds (medians "
        f"shown; each ratio against bare Flask in the same round). Command: `{args.command}`.",
        "",
    ]
    for result in results:
        lines += table(result)
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[1_000, 100_000],
        help="comma-separated numbers of posts, e.g. 1000,1000000",
    )
    add_wrk_options(parser)
    parser.add_argument("--database-url", help="default: a new SQLite file per size")
    parser.add_argument("--output", type=Path, default=RESULTS / "site.md")
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", "-m", "bench.site", *(argv or sys.argv[1:])])
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark at each size and write the report."""
    args = parse_args(argv)
    subprocess.run([str(ROOT / "scripts" / "install-system-deps"), "--bench"], check=True)
    with tempfile.TemporaryDirectory(prefix="blogapi-bench-site-") as tmp:
        results = [measure(args, size, Path(tmp)) for size in args.sizes]
    args.output.write_text(report(args, results) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
