"""Turn benchmark results into bench/results/latest.md and latest.png (quick.* for --quick), and
the scaling runs into scaling.md and scaling.png."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Issue 20: create + publish pairs/s before round two (SQLite, 4 client threads), the multiple
# of it to reach, and the memory goal for every worker process.
WRITE_BASELINE = {"sqlite": 134.0}
WRITE_GOAL_MULTIPLE = 5.0
MEMORY_GOAL_MB = 80.0
SAME_FILE_MARK = "†"
COLUMNS = [
    "request",
    "req/s",
    "bare req/s",
    "ratio",
    "goal",
    "met?",
    "p50 ms",
    "p99 ms",
    "SQL/request",
    "errors",
]
ALIGN = "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|"
TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


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


def commit() -> str:
    """The checkout's short commit id, marked when it has uncommitted changes (other than the
    reports in bench/results, which a run writes as it goes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", ":/", ":(top,exclude)bench/results"],
            check=False,
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes" if dirty else "")


def yes_no(met: bool) -> str:
    """The met? column."""
    return "yes" if met else "**no**"


def summarize(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Median throughput, latency and ratio to bare Flask for each request type of a database."""
    rows = []
    for scenario in result["scenarios"]:
        name = scenario["name"]
        pairs = result["runs"][name]
        warm, status, first = result["queries"].get(name, ["?", 200, "?"])
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
                "goal": scenario["goal"],
                "same_file": scenario["same_file"],
                "queries": f"{warm} (first {first})"
                + ("" if status == 200 else f" (HTTP {status})"),
            }
        )
    return rows


def request_rows(rows: list[dict[str, Any]]) -> list[str]:
    """The request types' table rows."""
    lines = []
    for r in rows:
        mark = SAME_FILE_MARK if r["same_file"] else ""
        lines.append(
            row(
                r["name"],
                f"{r['rps']:,.0f}",
                f"{r['bare']:,.0f}{mark}",
                f"{r['ratio']:.2f}",
                f"≥ {r['goal']:.2f}",
                yes_no(r["ratio"] >= r["goal"]),
                f"{r['p50']:.2f}",
                f"{r['p99']:.2f}",
                r["queries"],
                f"{r['errors']}",
            )
        )
    return lines


def writes_row(database: str, writes: dict[str, Any]) -> str:
    """create + publish pairs against issue 20's baseline, as a table row."""
    pairs = writes["pairs_per_second"]
    baseline = WRITE_BASELINE.get(database)
    if baseline:
        multiple = f"{pairs / baseline:.1f}x {baseline:.0f}"
        goal = f"≥ {WRITE_GOAL_MULTIPLE:.0f}x ({WRITE_GOAL_MULTIPLE * baseline:,.0f}/s)"
        met = yes_no(pairs >= WRITE_GOAL_MULTIPLE * baseline)
    else:
        multiple, goal, met = "no baseline", f"≥ {WRITE_GOAL_MULTIPLE:.0f}x baseline", "—"
    return row(
        "`POST /posts` + publish, 4 clients (pairs/s)",
        f"{pairs:,.0f}",
        "",
        multiple,
        goal,
        met,
        f"{writes['p50_ms']:.1f}",
        f"{writes['p99_ms']:.1f}",
        "",
        f"{writes['failures']}",
    )


def memory_rows(memory: dict[str, Any]) -> list[str]:
    """Peak resident memory of every process, as a small table."""
    workers = memory["blogapi_workers"]
    largest = max([*workers, memory["queue_worker"]], default=0.0)
    return [
        row("process", "peak RSS (VmHWM) MB", "goal", "met?"),
        "|---|---:|---:|---|",
        row(
            "blogapi gunicorn workers",
            " / ".join(f"{mb:.0f}" for mb in workers),
            f"≤ {MEMORY_GOAL_MB:.0f}",
            yes_no(max(workers, default=0.0) <= MEMORY_GOAL_MB),
        ),
        row(
            "queue worker (`manage.py worker`)",
            f"{memory['queue_worker']:.0f}",
            f"≤ {MEMORY_GOAL_MB:.0f}",
            yes_no(memory["queue_worker"] <= MEMORY_GOAL_MB),
        ),
        row(
            "bare Flask gunicorn workers",
            " / ".join(f"{mb:.0f}" for mb in memory["bare_workers"]),
            "",
            "",
        ),
    ] + ([] if largest else ["", "(no memory figures: the processes had gone)"])


def database_section(result: dict[str, Any]) -> list[str]:
    """One database's heading, request table, writes row and memory table."""
    rows = summarize(result)
    return [
        f"## {result.get('label', TITLES[result['database']])}",
        "",
        f"Seeded in {result['seed_seconds']:.1f} s.",
        "",
        row(*COLUMNS),
        ALIGN,
        *request_rows(rows),
        writes_row(result["database"], result["writes"]),
        "",
        f"{SAME_FILE_MARK} bare Flask serving the same file with `send_file`; every other ratio "
        'is against bare Flask answering `{"ok": true}`. Writes: queue worker running; the '
        "ratio column is the multiple of issue 20's figure before round two.",
        "",
        *memory_rows(result["memory"]),
        "",
    ]


def markdown(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> str:
    """The report as Markdown: the run's header, then one section per database."""
    lines = [
        f"# blogapi benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{args.command}` at commit {commit()}.",
        "",
        f"Machine: {machine()}. gunicorn {args.workers} sync workers for both apps, production "
        f"config; wrk {args.threads} threads, {args.connections} connections, {args.seconds} s "
        f"per run, {args.rounds} alternating round(s) (medians shown; each ratio against bare "
        f"Flask in the same round); {args.posts:,} seeded posts per database; writes "
        f"{args.seconds} s of 4 client threads. SQL/request: statements of a warm request "
        "(the third of three identical ones, as under load), and of the first, counted "
        "in-process.",
        "",
    ]
    for result in results.values():
        lines += database_section(result)
    return "\n".join(lines)


def chart(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Grouped bars of each request's ratio to bare Flask, one bar per database, with goals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summaries = {database: summarize(result) for database, result in results.items()}
    first = next(iter(summaries.values()))
    names = [r["name"].replace("`", "").replace("GET ", "") for r in first]
    width = 0.8 / len(summaries)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for index, (database, rows) in enumerate(summaries.items()):
        positions = [x + (index - (len(summaries) - 1) / 2) * width for x in range(len(rows))]
        bars = ax.bar(positions, [r["ratio"] for r in rows], width, label=TITLES[database])
        ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
    ax.scatter(
        range(len(first)),
        [r["goal"] for r in first],
        color="#d04a4a",
        marker="_",
        s=1200,
        label="goal",
        zorder=3,
    )
    ax.set_xticks(range(len(first)), names, rotation=20, ha="right", fontsize=7)
    highest = max(r["ratio"] for rows in summaries.values() for r in rows)
    ax.set_ylim(0, max(1.05, highest * 1.1))
    ax.set_ylabel("throughput ratio to bare Flask")
    ax.set_title("Requests/s relative to bare Flask (median of alternating rounds)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(
    args: argparse.Namespace, results: dict[str, dict[str, Any]], output: Path
) -> list[Path]:
    """Write the Markdown report and the chart into `output` (latest.*, or quick.* for a smoke
    run); the paths written."""
    output.mkdir(parents=True, exist_ok=True)
    report, picture = output / f"{args.report_name}.md", output / f"{args.report_name}.png"
    report.write_text(markdown(args, results))
    chart(results, picture)
    return [report, picture]


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
