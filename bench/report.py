"""Turn benchmark results into bench/results/latest.md and latest.png."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GOALS = [0.50, 0.45, 0.60, 0.45]
QUERY_KEYS = ["list", "deep cursor", "single post", "me"]


def machine() -> str:
    """A one-line description of the machine the run used."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python {platform.python_version()}"


def row(*cells: str) -> str:
    """A Markdown table row."""
    return "| " + " | ".join(cells) + " |"


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Median throughput, latency and ratio to bare Flask for each request type."""
    rows = []
    for index, name in enumerate(results["scenarios"]):
        pairs = results["runs"][name]
        rows.append(
            {
                "name": name,
                "rps": statistics.median(m.requests_per_second for _, m in pairs),
                "bare": statistics.median(b.requests_per_second for b, _ in pairs),
                "ratio": statistics.median(
                    m.requests_per_second / b.requests_per_second for b, m in pairs
                ),
                "p50": statistics.median(m.p50_ms for _, m in pairs),
                "p99": statistics.median(m.p99_ms for _, m in pairs),
                "errors": sum(m.non_2xx + m.errors for _, m in pairs),
                "goal": GOALS[index],
                "queries": results["queries"].get(QUERY_KEYS[index], ["?"])[0],
            }
        )
    return rows


def markdown(args: argparse.Namespace, results: dict[str, Any], rows: list[dict]) -> str:
    """The report as Markdown."""
    lines = [
        f"# blogapi benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. gunicorn {args.workers} sync workers for both apps; wrk "
        f"{args.threads} threads, {args.connections} connections, {args.seconds}s per run, "
        f"{args.rounds} alternating rounds (medians shown); {args.posts:,} seeded posts; "
        f"database: {'SQLite' if not args.database_url else args.database_url.split(':')[0]}.",
        "",
        row(
            "request",
            "blogapi req/s",
            "bare Flask req/s",
            "ratio",
            "goal",
            "p50 ms",
            "p99 ms",
            "SQL/request",
            "errors",
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        met = "met" if r["ratio"] >= r["goal"] else "not met"
        lines.append(
            f"| `{r['name']}` | {r['rps']:,.0f} | {r['bare']:,.0f} | {r['ratio']:.2f} | "
            f"≥ {r['goal']:.2f} ({met}) | {r['p50']:.2f} | {r['p99']:.2f} | {r['queries']} | "
            f"{r['errors']} |"
        )
    writes = results["writes"]
    lines += [
        f"| `POST /posts` + publish (4 clients) | {writes['pairs_per_second']:,.0f} pairs/s | | | "
        f"report only | {writes['p50_ms']:.1f} | {writes['p99_ms']:.1f} | | {writes['failures']} |",
        "",
        f"Peak resident memory of a worker: blogapi {results['memory_mb']:.0f} MB, "
        f"bare Flask {results['bare_memory_mb']:.0f} MB.",
    ]
    return "\n".join(lines) + "\n"


def chart(rows: list[dict], results: dict[str, Any], path: Path) -> None:
    """A bar chart of ratios to bare Flask against the goals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    names = [r["name"].replace("GET ", "") for r in rows]
    ax.bar(names, [r["ratio"] for r in rows], color="#4a7bd0", label="blogapi / bare Flask")
    ax.scatter(names, [r["goal"] for r in rows], color="#d04a4a", marker="_", s=900, label="goal")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("throughput ratio to bare Flask")
    ax.set_title("Requests/s relative to bare Flask")
    ax.tick_params(axis="x", labelrotation=15, labelsize=8)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(args: argparse.Namespace, results: dict[str, Any], output: Path) -> None:
    """Write latest.md and latest.png into `output`."""
    output.mkdir(parents=True, exist_ok=True)
    rows = summarize(results)
    (output / "latest.md").write_text(markdown(args, results, rows))
    chart(rows, results, output / "latest.png")


def pair(cached: Any, uncached: Any) -> str:
    """'cached / uncached' requests per second."""
    return f"{cached.requests_per_second:,.0f} / {uncached.requests_per_second:,.0f}"


def write_scaling(args: argparse.Namespace, rows: list[dict[str, Any]], output: Path) -> None:
    """scaling.md and scaling.png: list cost against the number of posts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    output.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# How list cost grows — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. gunicorn {args.workers} sync workers; wrk {args.threads} threads, "
        f"{args.connections} connections, {max(3, args.seconds // 2)}s per run; SQLite. "
        "`cached`: the same URL again (public cache, one primary-key lookup); `uncached`: a "
        "unique ignored parameter on every request (count, page, tags, all from the database).",
        "",
        row(
            "posts",
            "cursor depth",
            "first page req/s (cached / uncached)",
            "uncached first p50 ms",
            "deep cursor req/s (cached / uncached)",
            "uncached deep p50 ms",
            "worker peak MB",
        ),
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            row(
                f"{r['posts']:,}",
                f"{r['depth']:,}",
                pair(r["first"], r["first_miss"]),
                f"{r['first_miss'].p50_ms:.1f}",
                pair(r["deep"], r["deep_miss"]),
                f"{r['deep_miss'].p50_ms:.1f}",
                f"{r['memory_mb']:.0f}",
            )
        )
    (output / "scaling.md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sizes = [r["posts"] for r in rows]
    for key, label in (
        ("first", "first page, cached"),
        ("first_miss", "first page, uncached"),
        ("deep", "cursor 30% deep, cached"),
        ("deep_miss", "cursor 30% deep, uncached"),
    ):
        ax.plot(sizes, [r[key].requests_per_second for r in rows], "o-", label=label)
    ax.set_xscale("log")
    ax.set_xlabel("posts in the database")
    ax.set_ylabel("requests/s (2 workers)")
    ax.set_title("List throughput as the blog grows")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(output / "scaling.png", dpi=110)
    plt.close(fig)
