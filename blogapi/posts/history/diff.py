"""What changed between two revisions: the fields that differ and a unified diff of the body.

difflib aligns the lines, but its matcher can take quadratic time: two 200,000-character bodies
of short, often repeated lines took 3.4 s. Long bodies are first cut at their common start and
end and at lines that appear once in each (the patience diff's anchors, in the order both keep
them), and difflib aligns only the pieces between small enough to be cheap; a larger piece with
no anchor is shown replaced whole. The diff is then exact, and its cost bounded.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from blogapi.db.models import PostRevision
from blogapi.posts.revisions.storage import CONTENT, content_of, find_revision
from blogapi.web.errors import ApiError

NOTHING: dict[str, Any] = {"title": "", "slug": "", "summary": "", "body": "", "tags": {}}
CONTEXT = 3  # lines around each change, as `diff -u`
DIFFLIB_BUDGET = 2_000 * 2_000  # lines by lines difflib may align at once (about 10 ms)
Block = tuple[int, int, int]  # a run of equal lines: start in a, start in b, length


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff of two texts, line by line ("" when they are equal)."""
    a, b = before.splitlines(), after.splitlines()
    matcher = AlignedLines(a, b, matching_blocks(a, b))
    lines = list(unified_lines(matcher, a, b, before_name, after_name))
    return "\n".join(lines) + "\n" if lines else ""


class AlignedLines(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """difflib's opcodes and hunks from matching blocks found here."""

    def __init__(self, a: Sequence[str], b: Sequence[str], blocks: list[Block]) -> None:
        super().__init__(None, a, b, autojunk=False)
        # get_matching_blocks() answers from this once it is set (the sentinel ends it).
        self.matching_blocks = [difflib.Match(*block) for block in blocks]


def unified_lines(
    matcher: difflib.SequenceMatcher,  # type: ignore[type-arg]
    a: Sequence[str],
    b: Sequence[str],
    before_name: str,
    after_name: str,
) -> Iterator[str]:
    """The lines of a unified diff, as difflib.unified_diff writes them, from `matcher`."""
    for number, group in enumerate(matcher.get_grouped_opcodes(CONTEXT)):
        if number == 0:
            yield f"--- {before_name}"
            yield f"+++ {after_name}"
        first, last = group[0], group[-1]
        yield f"@@ -{hunk_range(first[1], last[2])} +{hunk_range(first[3], last[4])} @@"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            yield from ("-" + line for line in a[i1:i2])
            yield from ("+" + line for line in b[j1:j2])


def hunk_range(start: int, stop: int) -> str:
    """A hunk's line range as `diff -u` writes it (1-based; an empty range names the line
    before it)."""
    length = stop - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[Block]:
    """Runs of equal lines, in order in both, ending with the (len(a), len(b), 0) sentinel."""
    blocks: list[Block] = []
    pieces = [(0, len(a), 0, len(b))]
    while pieces:
        alo, ahi, blo, bhi = pieces.pop()
        if (ahi - alo) * (bhi - blo) <= DIFFLIB_BUDGET:
            found = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi])
            blocks += [(alo + i, blo + j, n) for i, j, n in found.get_matching_blocks() if n]
            continue
        head = 0
        while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
            head += 1
        if head:
            blocks.append((alo, blo, head))
        alo, blo = alo + head, blo + head
        tail = 0
        while ahi - tail > alo and bhi - tail > blo and a[ahi - tail - 1] == b[bhi - tail - 1]:
            tail += 1
        if tail:
            blocks.append((ahi - tail, bhi - tail, tail))
        ahi, bhi = ahi - tail, bhi - tail
        if alo == ahi or blo == bhi:
            continue
        if (ahi - alo) * (bhi - blo) <= DIFFLIB_BUDGET:
            pieces.append((alo, ahi, blo, bhi))
            continue
        anchors = unique_anchors(a, b, alo, ahi, blo, bhi)
        if not anchors:
            continue  # too large to align, and nothing to cut at: shown replaced whole
        edges = [(alo - 1, blo - 1), *anchors, (ahi, bhi)]
        blocks += [(i, j, 1) for i, j in anchors]
        pieces += [(i + 1, k, j + 1, m) for (i, j), (k, m) in itertools.pairwise(edges)]
    return [*merged(sorted(blocks)), (len(a), len(b), 0)]


def unique_anchors(
    a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Lines found once in each range, the longest run of them in the same order in both."""
    in_a, in_b = Counter(a[alo:ahi]), Counter(b[blo:bhi])
    where_a = {a[i]: i for i in range(alo, ahi) if in_a[a[i]] == 1}
    pairs = [(where_a[b[j]], j) for j in range(blo, bhi) if in_b[b[j]] == 1 and b[j] in where_a]
    return longest_increasing(pairs)


def longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of pairs (in b's order) whose positions in a increase."""
    tails: list[int] = []  # tails[k]: the smallest a-position ending a run of k + 1
    ends: list[int] = []  # the index in pairs of that run's last pair
    before: list[int] = []
    for index, (i, _j) in enumerate(pairs):
        k = bisect.bisect_left(tails, i)
        if k == len(tails):
            tails.append(i)
            ends.append(index)
        else:
            tails[k], ends[k] = i, index
        before.append(ends[k - 1] if k else -1)
    run, index = [], ends[-1] if ends else -1
    while index >= 0:
        run.append(pairs[index])
        index = before[index]
    return run[::-1]


def merged(blocks: list[Block]) -> list[Block]:
    """Adjacent runs joined into one."""
    out: list[Block] = []
    for i, j, n in blocks:
        if out and out[-1][0] + out[-1][2] == i and out[-1][1] + out[-1][2] == j:
            out[-1] = (out[-1][0], out[-1][1], out[-1][2] + n)
        else:
            out.append((i, j, n))
    return out


def compare(revision: PostRevision, against: int | None) -> dict[str, Any]:
    """The diff of `revision` from revision `against` of the same post (default: the one
    before; before the first, nothing); 422 for itself or a revision the post lacks."""
    number = revision.number
    if against is None and number == 1:
        other, before = 0, NOTHING
    else:
        other = number - 1 if against is None else against
        if other == number:
            raise ApiError(
                422,
                "Compare a revision with another one.",
                errors={"against": ["This is the revision being compared; give another number."]},
            )
        found = find_revision(revision.post_id, other)
        if found is None:
            raise ApiError(
                422,
                f"The post has no revision {other}.",
                errors={"against": ["No such revision of this post (never made, or pruned)."]},
            )
        before = content_of(found)
    after = content_of(revision)
    changed = [field for field in CONTENT if before[field] != after[field]]
    diff = unified_diff(before["body"], after["body"], f"revision {other}", f"revision {number}")
    return {"from_": other, "to": number, "diff": diff, "changed": changed}
