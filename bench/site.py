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
from bench.wrk import WrkResult, run_wrk
from devtools.live import ROOT

GOAL = 0.6
MISS = ROOT / "bench" / "uncached.lua"  # a unique query parameter: every request misses


def scenarios(api: str) -> dict[str, tuple[str, Path | None]]:
    """Request name -> (path, wrk script or None) for a seeded blog."""
    slug = requests.get(f"{api}/posts?per_page=1", timeout=30).json()["items"][0]["slug"]
    return {
        "cached `/feed.atom`": ("/feed.atom", None),
        "cached `/feed.json`": ("/feed.json", None),
        "cached `/posts/{slug}` page": (f"/posts/{slug}", None),
        "cached `/` page": ("/", None),
        "uncached `/feed.atom` (20 full posts)": ("/feed.atom", MISS),
        "uncached `/posts/{slug}` page": (f"/posts/{slug}", MISS),
    }


def measure(args: argparse.Namespace, size: int, workdir: Path) -> dict[str, Any]:
    """Seed `size` posts, then alternate wrk runs against bare Flask and each request."""
    env = prepare_database(workdir, size, args.database_url, name="site")
    wrk = dict(seconds=args.seconds, connections=args.connections, threads=args.threads)
    with bare_and_blogapi(env, args.workers, workdir) as (bare, ours):
        named = scenarios(ours.api)
        for path, _script in named.values():
            reply = requests.get(f"{ours.url}{path}", timeout=30)
            assert reply.status_code == 200, (path, reply.status_code)
        runs: dict[str, list[tuple[WrkResult, WrkResult]]] = {name: [] for name in named}
        for round_no in range(args.rounds):
            for name, (path, script) in named.items():
                base = run_wrk(f"{bare.url}/", **wrk)
                mine = run_wrk(f"{ours.url}{path}", script=script, **wrk)
                runs[name].append((base, mine))
                print(
                    f"{size:,} posts, round {round_no + 1}, {name}: "
                    f"{mine.requests_per_second:.0f}/s vs bare {base.requests_per_second:.0f}/s",
                    flush=True,
                )
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
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
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
