"""Diffs of revision bodies: exactly what changed, as `diff -u` writes it, at a bounded cost."""

from __future__ import annotations

import difflib
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blogapi.posts.history import diff
from blogapi.posts.history.diff import unified_diff

LINES = st.lists(st.sampled_from(["a", "b", "c", "", "dd", "é", " x"]), max_size=60)
HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def patched(before: str, patch: str) -> list[str]:
    """The lines of `before` with a unified diff applied, checking each line it keeps or
    removes (as `patch` would)."""
    old, out, at = before.splitlines(), [], 0
    for line in patch.splitlines()[2:]:
        hunk = HUNK.fullmatch(line)
        if hunk:
            start, length = int(hunk[1]), int(hunk[2] or 1)
            begin = start - 1 if length else start
            out += old[at:begin]
            at = begin
            continue
        if line[0] in " -":
            assert old[at] == line[1:]
            at += 1
        if line[0] in " +":
            out.append(line[1:])
    return out + old[at:]


def difflibs(before: str, after: str) -> str:
    """What difflib.unified_diff writes for the two texts."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), "a", "b", lineterm="")
    text = "\n".join(lines)
    return text + "\n" if text else ""


@settings(max_examples=300, deadline=None)
@given(before=LINES, after=LINES)
def test_a_diff_of_short_texts_is_difflibs_own(before, after):
    a, b = "\n".join(before), "\n".join(after)
    assert unified_diff(a, b, "a", "b") == difflibs(a, b)


@settings(max_examples=300, deadline=None)
@given(before=LINES, after=LINES, budget=st.integers(0, 40))
def test_a_diff_cut_at_anchors_still_turns_one_text_into_the_other(before, after, budget):
    with pytest.MonkeyPatch.context() as patch_budget:
        patch_budget.setattr(diff, "DIFFLIB_BUDGET", budget)
        patch = unified_diff("\n".join(before), "\n".join(after), "a", "b")
    assert patched("\n".join(before), patch) == "\n".join(after).splitlines()


def test_a_long_body_edited_in_two_places_shows_two_small_hunks():
    lines = [f"Sentence {n} of a long article about gardens." for n in range(8000)]
    before = "\n".join(lines)
    lines[11], lines[6999] = "Phrase 11.", "Phrase 6999."
    patch = unified_diff(before, "\n".join(lines), "revision 1", "revision 2")
    assert patch.count("\n@@ ") == 2
    assert "-Sentence 11 of a long article about gardens.\n+Phrase 11.\n" in patch
    assert len(patch.splitlines()) == 2 + 2 * (1 + 3 + 2 + 3)


def random_lines(distinct: int, count: int) -> str:
    """`count` lines drawn from `distinct` different ones."""
    rng = random.Random(distinct * count)
    return "\n".join(f"w{rng.randrange(distinct)}" for _ in range(count))


def paragraphs(count: int, version: int) -> str:
    """Paragraphs separated by blank lines, as Markdown writes them, each as of `version`."""
    return "\n\n".join(f"Paragraph {n}, version {version}." for n in range(count))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (random_lines(100, 33_000), random_lines(100, 33_001)),
        (random_lines(1000, 33_000), random_lines(1000, 33_001)),
        (random_lines(100_000, 33_000), random_lines(100_000, 33_001)),
        # Every other line blank and every paragraph changed: without difflib's heuristic for
        # popular lines, it aligned 800 blank lines with each other (15 s for 200 kB).
        (paragraphs(800, 1), paragraphs(800, 2)),
    ],
    ids=["100 lines repeated", "1000 lines repeated", "lines seldom repeated", "paragraphs"],
)
def test_difflib_only_aligns_pieces_within_its_budget_and_skips_popular_lines(
    monkeypatch, before, after
):
    sizes, heuristics = [], []

    class Counted(difflib.SequenceMatcher):  # type: ignore[type-arg]
        def __init__(self, junk, a, b, autojunk=True):
            sizes.append(len(a) * len(b))
            heuristics.append(autojunk)
            super().__init__(junk, a, b, autojunk)

    monkeypatch.setattr(diff.difflib, "SequenceMatcher", Counted)
    patch = unified_diff(before, after, "a", "b")
    assert patched(before, patch) == after.splitlines()
    assert all(size <= diff.DIFFLIB_BUDGET for size in sizes)
    assert sum(sizes) <= 40 * diff.DIFFLIB_BUDGET
    assert all(heuristics)
