"""`make bench` (bench/run.py) takes the options its README promises and writes a report with one
table per database: a cheap check of the arguments and the report, never of timings."""

from __future__ import annotations

import pytest

import bench.run
from bench.report import markdown, write_report
from bench.run import QUICK, databases_here, parse_args
from bench.wrk import WrkResult


def test_by_default_both_databases_are_measured_at_100000_posts():
    args = parse_args([])
    assert args.databases == ["sqlite", "postgresql"]
    assert (args.posts, args.rounds, args.report_name) == (100_000, 3, "latest")


def test_one_database_can_be_chosen_and_a_database_url_picks_its_own_kind():
    assert parse_args(["--database", "sqlite"]).databases == ["sqlite"]
    existing = parse_args(["--database-url", "postgresql+psycopg://bench@127.0.0.1:5432/blog"])
    assert existing.databases == ["postgresql"]
    both = parse_args(["--database", "both", "--database-url", "sqlite:///bench.db"])
    assert both.databases == ["sqlite", "postgresql"]


def test_an_unknown_database_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args(["--database", "mysql"])
    assert exited.value.code == 2
    assert "choose sqlite, postgresql or both" in capsys.readouterr().err


def test_a_quick_run_is_small_short_and_reported_apart_from_the_latest_results():
    args = parse_args(["--quick", "--database", "sqlite"])
    assert (args.posts, args.seconds, args.rounds) == (
        QUICK["posts"],
        QUICK["seconds"],
        QUICK["rounds"],
    )
    assert args.report_name == "quick"
    assert args.command == "python -m bench.run --quick --database sqlite"


def wrk(rps: float) -> WrkResult:
    """A wrk run's figures."""
    return WrkResult(requests_per_second=rps, p50_ms=5.0, p99_ms=9.0, non_2xx=0, errors=0)


def database_result(database: str, list_rps: float, pairs: float) -> dict:
    """What bench.scenarios.measure_database returns, with made-up figures."""
    return {
        "database": database,
        "label": f"{database} 1.0 (a test)",
        "seed_seconds": 1.5,
        "scenarios": [
            {"name": "`GET /posts?per_page=20`", "goal": 0.70, "same_file": False},
            {"name": "media variant file", "goal": 0.70, "same_file": True},
        ],
        "runs": {
            "`GET /posts?per_page=20`": [(wrk(4000), wrk(list_rps))],
            "media variant file": [(wrk(3000), wrk(2700))],
        },
        "writes": {"pairs_per_second": pairs, "p50_ms": 20.0, "p99_ms": 60.0, "failures": 0},
        "memory": {"blogapi_workers": [75.0, 90.0], "queue_worker": 60.0, "bare_workers": [29.0]},
        "queries": {"`GET /posts?per_page=20`": [1, 200, 4], "media variant file": [0, 404, 0]},
    }


RESULTS = {
    "sqlite": database_result("sqlite", list_rps=3000, pairs=700),
    "postgresql": database_result("postgresql", list_rps=2000, pairs=300),
}


def test_the_report_has_a_table_per_database_with_goals_writes_and_memory():
    report = markdown(parse_args(["--quick"]), RESULTS)
    assert "## sqlite 1.0 (a test)" in report and "## postgresql 1.0 (a test)" in report
    assert "Command: `python -m bench.run --quick" in report
    sqlite, postgresql = report.split("## postgresql")
    # 3,000 of 4,000 meets 0.70; 2,000 of 4,000 does not.
    assert "| 3,000 | 4,000 | 0.75 | ≥ 0.70 | yes |" in sqlite
    assert "| 2,000 | 4,000 | 0.50 | ≥ 0.70 | **no** |" in postgresql
    # The media file is measured against bare Flask serving the same file; a refused request
    # shows its status next to its statement count.
    assert "| 3,000† |" in sqlite and "| 0 (first 0) (HTTP 404) |" in sqlite
    # Statements of a warm request, and of the first (a cache miss).
    assert "| 1 (first 4) |" in sqlite
    # Writes against issue 20's 134 pairs/s on SQLite; PostgreSQL has no figure to compare.
    assert "| 700 |  | 5.2x 134 | ≥ 5x (670/s) | yes |" in sqlite
    assert "no baseline" in postgresql
    # Memory: one worker over 80 MB fails the goal; the queue worker meets it.
    assert "| blogapi gunicorn workers | 75 / 90 | ≤ 80 | **no** |" in sqlite
    assert "| queue worker (`manage.py worker`) | 60 | ≤ 80 | yes |" in sqlite


def test_a_quick_run_writes_its_table_and_chart_beside_the_latest_results(tmp_path):
    pytest.importorskip("matplotlib", reason="the chart needs the bench extra")
    args = parse_args(["--quick", f"--output={tmp_path}"])
    written = write_report(args, RESULTS, tmp_path)
    assert [path.name for path in written] == ["quick.md", "quick.png"]
    assert all(path.stat().st_size > 0 for path in written)


def test_without_postgresql_binaries_the_default_run_measures_sqlite_alone(monkeypatch, capsys):
    monkeypatch.setattr(bench.run, "find_pg_bindir", lambda: None)
    assert databases_here(parse_args([])) == ["sqlite"]
    assert "measuring SQLite only" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="PostgreSQL server binaries"):
        databases_here(parse_args(["--database", "postgresql"]))
