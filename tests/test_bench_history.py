"""The history benchmark (bench/history.py) keeps working: its edits change what they say they
change, and a tiny run through real servers on the database in use reports sane numbers."""

from __future__ import annotations

import os

import pytest

from bench.history import Writer, parse_args, report, run, shape
from devtools.live import ROOT


def changed_blocks(before: str, after: str) -> int:
    """How many blank-line-separated blocks differ (edits keep the block count)."""
    old, new = before.split("\n\n"), after.split("\n\n")
    assert len(old) == len(new)
    return sum(a != b for a, b in zip(old, new, strict=True))


@pytest.mark.parametrize("text", ["prose", "seed"])
def test_small_edits_rewrite_one_sentence_and_large_ones_half_the_body(text):
    writer = Writer(text, seed=3)
    body = writer.body(20_000)
    assert len(body) == 20_000
    for _ in range(20):
        edited = writer.small_edit(body)
        assert changed_blocks(body, edited) == 1
        assert len(body) - 3 <= len(edited) <= len(body)
        body = edited
    blocks = len(body.split("\n\n"))
    rewritten = writer.large_edit(body)
    assert blocks // 2 - 2 <= changed_blocks(body, rewritten) <= blocks // 2 + 1
    assert len(body) * 0.95 <= len(rewritten) <= len(body)


def test_statements_are_told_apart_by_kind_and_table():
    assert shape("SELECT posts.id, posts.slug \nFROM posts JOIN users ON x") == "SELECT posts"
    assert shape("INSERT INTO post_revisions (post_id) VALUES (?)") == "INSERT post_revisions"
    assert shape("UPDATE posts SET version=?") == "UPDATE posts"
    assert shape("RELEASE SAVEPOINT sa_savepoint_2") == "RELEASE SAVEPOINT"


@pytest.mark.slow
def test_a_tiny_run_reports_sane_numbers(tmp_path):
    kind = "postgresql" if os.environ.get("TEST_PG_ADMIN_URL") else "sqlite"
    edits = 6
    args = parse_args(
        [
            f"--databases={kind}",
            "--texts=prose",
            "--length=6000",
            "--small-length=1000",
            f"--edits={edits}",
            "--posts=5",
            "--rounds=1",
            "--seconds=1",
            "--clients=2",
            "--in-process-pairs=3",
            "--patches=2",
            # This tree against itself: the machinery, not a comparison (no git worktree).
            f"--base-tree={ROOT}",
            f"--output={tmp_path / 'history.md'}",
        ]
    )
    results = run(args)

    assert [(r.case.length, r.case.edit) for r in results.storage] == [
        (6000, "small"),
        (6000, "large"),
        (1000, "small"),
    ]
    for result in results.storage:
        stored = result.stored
        assert stored.rows == edits + 1  # the create and each edit; none pruned (keep 100)
        assert (stored.oldest, stored.newest) == (1, edits + 1)
        assert 0 < stored.body_bytes < result.case.length * stored.rows  # compressed
        assert stored.row_bytes > stored.body_bytes
        assert result.disk_growth > 0
        assert len(result.patch_ms) == edits
        assert min(result.patch_ms) > 0 and result.read_ms > 0 and result.far_diff_ms > 0
    small, large, _short = results.storage
    # Small edits are stored as deltas against revision 1, a rewrite of half the body whole.
    assert small.stored.keyframes == 1 < large.stored.keyframes
    assert small.stored.body_bytes < small.case.length * small.stored.rows / 4
    assert small.stored.body_bytes < large.stored.body_bytes

    (writes,) = results.writes
    for side in ("base", "new"):
        (round_,) = writes.rounds[side]
        assert round_["pairs_per_second"] > 0 and round_["failures"] == 0
        counted = [shape(sql) for sql in writes.statements[side]["POST /posts"]]
        assert counted.count("INSERT post_revisions") == 1
        assert "UPDATE posts" in map(shape, writes.statements[side]["POST /posts/{id}/publish"])
        (in_process,) = writes.in_process[side]
        assert in_process["wall_ms"] >= in_process["cpu_ms"] > in_process["revision_ms"] > 0

    (patches,) = results.patches
    for side in ("base", "new"):
        (measured,) = patches.rounds[side]
        for edit in ("small", "large"):
            figures = measured[edit]
            assert figures["wall_ms"] >= figures["cpu_ms"] > figures["revision_ms"] > 0

    text = (tmp_path / "history.md").read_text()
    assert text == report(args, results)
    assert f"| {kind} | prose | 6,000 | small | {edits + 1} (1) |" in text
    assert "| ≥ 0.90 (" in text
    assert f"| {kind} | large |" in text
