"""What changed between two revisions: the fields that differ and a unified diff of the body."""

from __future__ import annotations

import difflib
from typing import Any

from blogapi.db.models import PostRevision
from blogapi.posts.revisions.storage import CONTENT, content_of, find_revision
from blogapi.web.errors import ApiError

NOTHING: dict[str, Any] = {"title": "", "slug": "", "summary": "", "body": "", "tags": {}}


def unified_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff of two texts, line by line ("" when they are equal)."""
    lines = difflib.unified_diff(
        before.splitlines(), after.splitlines(), before_name, after_name, lineterm=""
    )
    text = "\n".join(lines)
    return text + "\n" if text else ""


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
