"""Past REVISIONS_KEEP, a save prunes the oldest revision without rewriting the kept ones each
time: deltas whose keyframe is pruned are rebased once, on a keyframe that stays longest."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.support.accounts import sign_up
from tests.support.apps import dispose, make_app
from tests.support.databases import sent_statements

KEEP = 4
LINES = 40


def rows_in(parameters: Any) -> int:
    """Rows one statement wrote: a list of parameter sets is an executemany."""
    return len(parameters) if isinstance(parameters, list | tuple) else 1


def test_a_long_edited_post_rewrites_its_kept_revisions_once_per_keep_saves():
    app = make_app(REVISIONS_KEEP=KEEP)
    try:
        client = app.test_client()
        ada = sign_up(client, app, "ada", "author")
        lines = [f"Line {i} of a long body that changes one line at a time." for i in range(LINES)]
        saved = ["\n".join(lines)]
        created = client.post(
            "/api/v1/posts", json={"title": "Long", "body": saved[0]}, headers=ada.headers
        )
        post = f"/api/v1/posts/{created.get_json()['id']}"
        rewritten = []
        for edit in range(1, 21):
            lines[edit % LINES] = f"Line {edit % LINES}, edited in save {edit}."
            saved.append("\n".join(lines))
            rebases = sent_statements(app, lambda sql: sql.startswith("UPDATE post_revisions"))
            with rebases as sent:
                response = client.patch(post, json={"body": saved[-1]}, headers=ada.headers)
            assert response.status_code == 200
            rewritten.append(sum(rows_in(parameters) for _sql, parameters in sent))

        # Saves 1-3 prune nothing. Each later one prunes one revision; the kept revisions are
        # rewritten only when their keyframe goes: once every KEEP saves, not on every save.
        assert rewritten[: KEEP - 1] == [0] * (KEEP - 1)
        rebasing = [save for save, rows in enumerate(rewritten, 1) if rows]
        assert rebasing and all(b - a >= KEEP for a, b in pairwise(rebasing))
        assert len(rebasing) <= len(rewritten) // KEEP

        # And every kept revision still reads back as it was saved.
        listed = client.get(f"{post}/revisions", headers=ada.headers).get_json()["items"]
        numbers = [item["number"] for item in listed]
        assert numbers == list(range(len(saved), len(saved) - KEEP, -1))
        for number in numbers:
            revision = client.get(f"{post}/revisions/{number}", headers=ada.headers)
            assert revision.get_json()["body"] == saved[number - 1]
    finally:
        dispose(app)
