"""The observability benchmark (bench/observability.py) keeps working: the sides take turns, the
report holds each side's figures against the budget, and a tiny run through three real servers
on the database in use sees which path each request takes and where the access log goes."""

from __future__ import annotations

import os
import shutil

import pytest

from bench.observability import (
    AFTER,
    BEFORE,
    HOT_PATHS,
    LOG_OFF,
    SIDES,
    CpuSnapshot,
    DatabaseResult,
    Run,
    other_cores,
    parse_args,
    report,
    rotated,
    run,
)
from bench.wrk import WrkResult
from devtools.live import ROOT
from tests.support.prerequisites import unavailable


def test_each_round_starts_with_the_next_side():
    assert [rotated(n) for n in range(4)] == [
        (BEFORE, AFTER, LOG_OFF),
        (AFTER, LOG_OFF, BEFORE),
        (LOG_OFF, BEFORE, AFTER),
        (BEFORE, AFTER, LOG_OFF),
    ]


def test_other_work_is_the_machines_busy_time_less_ours():
    start = CpuSnapshot(wall=100.0, busy=50.0, ours={10: 1.0, 11: 2.0}, children=0.5)
    # In 2 s the machine was busy 3 s: our processes 1.5 s (one of them new), wrk 0.5 s.
    end = CpuSnapshot(wall=102.0, busy=53.0, ours={10: 1.5, 11: 2.5, 12: 0.5}, children=1.0)
    assert other_cores(start, end) == pytest.approx(0.5)
    assert other_cores(start, start) == 0.0


def run_of(rps: float, cpu_us: float = 300.0) -> Run:
    """One made-up run."""
    return Run(WrkResult(rps, 5.0, 9.0, 0, 0), cpu_us, 0.1)


def test_the_report_gives_each_side_its_ratio_to_before_and_the_budget():
    args = parse_args(["--only", "list,me", "--rounds", "3"])
    list_, me = HOT_PATHS[0], HOT_PATHS[2]
    result = DatabaseResult(
        "sqlite",
        "SQLite 3 (a test)",
        [list_, me],
        runs={
            "list": {
                BEFORE: [run_of(3000), run_of(3100), run_of(2900)],
                AFTER: [run_of(2940), run_of(2900), run_of(3000)],
                LOG_OFF: [run_of(3000), run_of(3050), run_of(2990)],
            },
            "me": {
                BEFORE: [run_of(2000), run_of(2000), run_of(2000)],
                AFTER: [run_of(1800, 350), run_of(1700, 360), run_of(1900, 340)],
                LOG_OFF: [run_of(1950), run_of(1980), run_of(1990)],
            },
        },
        paths={"list": "replay", "me": "replay"},
        logs={BEFORE: (0, 0), AFTER: (1000, 250_000), LOG_OFF: (0, 0)},
        load={"start": "0.10 0.20 0.30"},
    )
    text = report(args, [result])
    assert "## SQLite 3 (a test)" in text
    # 2,940 of 3,000 is within 5%; 1,800 of 2,000 is not.
    assert "| replayed | 3,000 | 2,940 | 0.980 | 3,000 | 1.000 | met |" in text
    assert "| replayed | 2,000 | 1,800 | 0.900 | 1,980 | 0.990 | **not met** |" in text
    assert "| 300 / 350 / 300 |" in text  # worker CPU per request, medians
    assert "1: 2,000 / 1,800 / 1,950 (0.900, 0.975)" in text
    assert "after 1,000 lines, 0.2 MB (250 B a line)" in text
    assert "not to /dev/null" in text


def test_only_known_requests_may_be_chosen(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--only", "list,feed"])
    assert "choose among list, post, me" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_run_of_this_tree_against_itself(tmp_path):
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (scripts/install-system-deps --bench)")
    admin_url = os.environ.get("TEST_PG_ADMIN_URL")
    where = ["--database=postgresql", f"--database-url={admin_url}"] if admin_url else []
    args = parse_args(
        [
            *where,
            "--only=list,list-304",
            "--posts=3",
            "--seconds=1",
            "--rounds=1",
            "--warmup=0",
            "--quiet=0",  # the suite may run beside it: no waiting
            # This tree on every side: the machinery, not a comparison (no git worktree).
            f"--base-tree={ROOT}",
            f"--output={tmp_path / 'observability.md'}",
        ]
    )
    (result,) = run(args)

    assert result.paths == {"list": "replay", "list-304": "public"}
    for key in ("list", "list-304"):
        for side in SIDES:
            ((measured,),) = [result.runs[key][side]]
            assert measured.wrk.requests_per_second > 0
            assert measured.wrk.non_2xx == 0 and measured.wrk.errors == 0
            assert measured.cpu_us > 0
    # The access log reaches the stderr file, one line a request; switched off, nothing does.
    served = sum(result.runs[key][AFTER][0].wrk.requests for key in ("list", "list-304"))
    lines, size = result.logs[AFTER]
    # wrk stops with requests in flight: the server may answer (and log) up to one more each
    assert served <= lines <= served + 2 * args.connections and size > 100 * lines
    assert result.logs[LOG_OFF] == (0, 0)
    assert (tmp_path / "observability.md").read_text() == report(args, [result]) + "\n"
