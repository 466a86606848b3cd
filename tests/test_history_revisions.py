"""Stories about revisions: every save of a post's content is kept, compared and restorable."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blogapi.db.models import PostRevision
from blogapi.extensions import db
from tests.support.posts import API, new_post, publish, published_post
from tests.support.problems import assert_problem


def revisions(client, account, post_id, **params):
    """GET /posts/{id}/revisions as `account`; the response."""
    return client.get(
        f"{API}/posts/{post_id}/revisions", headers=account.headers, query_string=params
    )


def numbers(client, account, post_id):
    """The post's revision numbers, newest first."""
    response = revisions(client, account, post_id, per_page=100)
    assert response.status_code == 200, response.get_json()
    return [item["number"] for item in response.get_json()["items"]]


def edit(client, account, post_id, **fields):
    """PATCH the post; its JSON."""
    response = client.patch(f"{API}/posts/{post_id}", json=fields, headers=account.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def revision(client, account, post_id, number):
    """GET …/revisions/{number}; the response."""
    return client.get(f"{API}/posts/{post_id}/revisions/{number}", headers=account.headers)


def stored_count(app) -> int:
    """How many revision rows the database holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(PostRevision)) or 0


def test_a_draft_and_each_edit_of_its_content_are_revisions_newest_first(client, author):
    post = new_post(client, author, title="First", body="One.", tags=["Python"])
    edit(client, author, post["id"], body="Two.")
    edit(client, author, post["id"], title="Second", tags=["python", "Web"])

    response = revisions(client, author, post["id"])
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "3"
    items = response.get_json()["items"]
    assert [item["number"] for item in items] == [3, 2, 1]
    assert list(items[0]) == [
        "number", "created_at", "author", "title", "slug", "summary", "tags",
    ]  # fmt: skip
    assert items[0]["title"] == "Second" and items[0]["tags"] == ["python", "web"]
    assert items[2]["title"] == "First" and items[2]["tags"] == ["python"]
    assert items[0]["author"] == post["author"]
    assert "body" not in items[0]
    latest = client.get(f"{API}/posts/{post['id']}", headers=author.headers).get_json()
    assert items[0]["created_at"] == latest["updated_at"]


def test_a_revision_holds_the_body_as_it_was_and_renders_it(client, author):
    post = new_post(client, author, body="Old *words*.")
    edit(client, author, post["id"], body="New words.")

    old = revision(client, author, post["id"], 1)
    assert old.status_code == 200
    assert old.get_json()["body"] == "Old *words*."
    assert old.get_json()["body_html"] == "<p>Old <em>words</em>.</p>\n"
    assert revision(client, author, post["id"], 2).get_json()["body"] == "New words."


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Same"},  # as it is
        {"tags": ["Kept"]},  # same tags, same spelling
        {},
    ],
)
def test_a_save_that_changes_no_content_adds_no_revision(client, author, change):
    post = new_post(client, author, title="Same", tags=["Kept"])
    edit(client, author, post["id"], **change)
    assert numbers(client, author, post["id"]) == [1]


def test_publishing_and_unpublishing_change_no_content_and_add_no_revision(client, author):
    post = published_post(client, author)
    client.post(f"{API}/posts/{post['id']}/unpublish", headers=author.headers)
    publish(client, author, post["id"])
    assert numbers(client, author, post["id"]) == [1]


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Another"},
        {"summary": "Now with one"},
        {"body": "Other text."},
        {"tags": ["kept"]},  # a new spelling of the same tag
        {"slug": "moved-here"},
    ],
)
def test_each_content_field_makes_a_revision(client, author, change):
    post = new_post(client, author, title="A title", tags=["Kept"])
    edit(client, author, post["id"], **change)
    assert numbers(client, author, post["id"]) == [2, 1]


def test_the_revision_is_by_whoever_saved_it(client, author, make_account):
    editor = make_account("editor")
    post = new_post(client, author)
    edit(client, editor, post["id"], body="An editor's fix.")
    items = revisions(client, author, post["id"]).get_json()["items"]
    assert [item["author"]["username"] for item in items] == [editor.username, author.username]


def test_diff_lists_changed_fields_and_a_unified_diff_of_the_body(client, author):
    post = new_post(client, author, title="T", body="line one\nline two\nline three")
    edit(client, author, post["id"], title="T2", body="line one\nline 2\nline three")

    response = client.get(f"{API}/posts/{post['id']}/revisions/2/diff", headers=author.headers)
    assert response.status_code == 200
    assert response.get_json() == {
        "from": 1,
        "to": 2,
        "changed": ["title", "body"],
        "diff": "--- revision 1\n+++ revision 2\n@@ -1,3 +1,3 @@\n line one\n-line two\n"
        "+line 2\n line three\n",
    }


def test_diff_against_any_revision_either_way(client, author):
    post = new_post(client, author, body="a")
    edit(client, author, post["id"], body="b")
    edit(client, author, post["id"], body="c", summary="s")
    url = f"{API}/posts/{post['id']}/revisions/1/diff"
    back = client.get(url, query_string={"against": 3}, headers=author.headers).get_json()
    assert (back["from"], back["to"], back["changed"]) == (3, 1, ["summary", "body"])
    assert "-c\n+a\n" in back["diff"]


def test_the_first_revision_diffs_against_nothing(client, author):
    post = new_post(client, author, title="Hello", body="Hi", tags=["x"])
    url = f"{API}/posts/{post['id']}/revisions/1/diff"
    body = client.get(url, headers=author.headers).get_json()
    assert body["from"] == 0
    assert body["changed"] == ["title", "slug", "body", "tags"]
    assert body["diff"].endswith("+Hi\n")


@pytest.mark.parametrize("against", ["1", "3", "0", "-1", "x", "99999999999"])
def test_against_itself_or_outside_the_history_is_422(client, author, against):
    post = new_post(client, author, body="a")
    edit(client, author, post["id"], body="b")
    url = f"{API}/posts/{post['id']}/revisions/1/diff?against={against}"
    problem = assert_problem(client.get(url, headers=author.headers), 422)
    assert "against" in problem["errors"]


@pytest.mark.parametrize("number", ["3", "0", "-1", "x", "99999999999", "1.0"])
def test_an_unknown_revision_is_404(client, author, number):
    post = new_post(client, author)
    for suffix in ("", "/diff"):
        url = f"{API}/posts/{post['id']}/revisions/{number}{suffix}"
        assert_problem(client.get(url, headers=author.headers), 404)
    url = f"{API}/posts/{post['id']}/revisions/{number}/restore"
    assert_problem(client.post(url, headers=author.headers), 404)


def test_restoring_a_revision_brings_its_content_back_as_a_new_revision(client, author):
    post = new_post(client, author, title="Original", body="First draft.", tags=["Old Tag"])
    published = publish(client, author, post["id"]).get_json()
    edit(client, author, post["id"], title="Changed", body="Overwritten.", tags=["new"], slug="x-y")

    response = client.post(f"{API}/posts/{post['id']}/revisions/1/restore", headers=author.headers)
    assert response.status_code == 200
    restored = response.get_json()
    assert (restored["title"], restored["body"], restored["slug"]) == (
        "Original",
        "First draft.",
        post["slug"],
    )
    assert restored["tags"] == ["old-tag"]
    assert restored["status"] == "published"
    assert restored["published_at"] == published["published_at"]
    assert response.headers["ETag"]
    assert numbers(client, author, post["id"]) == [3, 2, 1]
    newest = revision(client, author, post["id"], 3).get_json()
    assert newest["body"] == "First draft." and newest["tags"] == ["old-tag"]
    tags = client.get(f"{API}/tags").get_json()
    assert tags == [{"name": "Old Tag", "slug": "old-tag", "post_count": 1}]


def test_restore_honours_if_match(client, author):
    post = new_post(client, author, body="one")
    stale = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    edit(client, author, post["id"], body="two")
    url = f"{API}/posts/{post['id']}/revisions/1/restore"

    assert_problem(client.post(url, headers=author.headers | {"If-Match": stale}), 412)
    assert numbers(client, author, post["id"]) == [2, 1]
    fresh = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    ok = client.post(url, headers=author.headers | {"If-Match": fresh})
    assert ok.status_code == 200 and ok.get_json()["body"] == "one"


def test_restoring_a_slug_another_post_took_is_409_and_changes_nothing(client, author):
    post = new_post(client, author, title="Taken later")
    edit(client, author, post["id"], slug="elsewhere", body="Edited.")
    new_post(client, author, title="Taken later")  # takes the first slug
    url = f"{API}/posts/{post['id']}/revisions/1/restore"
    assert_problem(client.post(url, headers=author.headers), 409)
    current = client.get(f"{API}/posts/{post['id']}", headers=author.headers).get_json()
    assert (current["slug"], current["body"]) == ("elsewhere", "Edited.")
    assert numbers(client, author, post["id"]) == [2, 1]


def test_history_is_hidden_from_those_who_may_not_edit_the_post(client, author, make_account):
    other = make_account("author")
    contributor = make_account("contributor")
    editor = make_account("editor")
    post = published_post(client, author)
    for outsider in (other, contributor):
        assert_problem(revisions(client, outsider, post["id"]), 404)
        assert_problem(revision(client, outsider, post["id"], 1), 404)
        url = f"{API}/posts/{post['id']}/revisions/1/restore"
        assert_problem(client.post(url, headers=outsider.headers), 404)
    assert_problem(client.get(f"{API}/posts/{post['id']}/revisions"), 401)
    assert revisions(client, editor, post["id"]).status_code == 200


def test_a_contributor_sees_their_own_history_but_restores_only_drafts(client, make_account):
    contributor = make_account("contributor")
    editor = make_account("editor")
    post = new_post(client, contributor, body="mine")
    edit(client, contributor, post["id"], body="mine, edited")
    url = f"{API}/posts/{post['id']}/revisions/1/restore"
    assert client.post(url, headers=contributor.headers).status_code == 200
    publish(client, editor, post["id"])

    assert revisions(client, contributor, post["id"]).status_code == 200
    assert_problem(client.post(url, headers=contributor.headers), 403)


def test_revisions_are_paged(client, author):
    post = new_post(client, author, body="0")
    for n in range(1, 5):
        edit(client, author, post["id"], body=str(n))
    page = revisions(client, author, post["id"], page=2, per_page=2)
    assert [item["number"] for item in page.get_json()["items"]] == [3, 2]
    assert page.get_json()["meta"] == {
        "page": 2,
        "per_page": 2,
        "total": 5,
        "pages": 3,
        "next_cursor": None,
    }
    assert 'rel="next"' in page.headers["Link"]


def test_only_the_newest_revisions_keep_keep_are_kept(app, client, author):
    app.config["REVISIONS_KEEP"] = 3
    post = new_post(client, author, body="v1")
    for n in range(2, 7):
        edit(client, author, post["id"], body=f"v{n}")
    assert numbers(client, author, post["id"]) == [6, 5, 4]
    assert [revision(client, author, post["id"], n).get_json()["body"] for n in (4, 5, 6)] == [
        "v4",
        "v5",
        "v6",
    ]
    assert_problem(revision(client, author, post["id"], 3), 404)
    problem = client.get(f"{API}/posts/{post['id']}/revisions/4/diff", headers=author.headers)
    assert_problem(problem, 422)
    assert stored_count(app) == 3


def test_zero_keeps_every_revision(app, client, author):
    app.config["REVISIONS_KEEP"] = 0
    post = new_post(client, author, body="v1")
    for n in range(2, 104):
        edit(client, author, post["id"], body=f"v{n}")
    assert stored_count(app) == 103


def test_a_long_body_edited_a_little_is_stored_as_small_deltas_and_read_back_whole(
    app, client, author
):
    app.config["REVISIONS_KEEP"] = 0
    lines = [f"Paragraph {n}: the quick brown fox jumps over the lazy dog.\n" for n in range(3000)]
    post = new_post(client, author, body="".join(lines))
    bodies = ["".join(lines)]
    for n in range(1, 31):
        lines[n * 97] = f"Paragraph {n * 97} was edited in revision {n + 1}.\n"
        bodies.append("".join(lines))
        edit(client, author, post["id"], body=bodies[-1])

    for number in (1, 2, 16, 31):
        assert revision(client, author, post["id"], number).get_json()["body"] == bodies[number - 1]
    with app.app_context():
        sizes = db.session.execute(
            select(PostRevision.number, PostRevision.keyframe, func.length(PostRevision.body_data))
        ).all()
    deltas = [size for _number, keyframe, size in sizes if keyframe is not None]
    assert len(deltas) >= 25
    assert sum(size for *_rest, size in sizes) < len(bodies[0]) // 2


def test_a_pruned_keyframe_leaves_its_deltas_readable(app, client, author):
    app.config["REVISIONS_KEEP"] = 4
    lines = [f"Line {n} of a long enough post to be worth a delta.\n" for n in range(400)]
    post = new_post(client, author, body="".join(lines))
    bodies = {1: "".join(lines)}
    for number in range(2, 12):
        lines[number] = f"Edited in {number}.\n"
        bodies[number] = "".join(lines)
        edit(client, author, post["id"], body=bodies[number])
    assert numbers(client, author, post["id"]) == [11, 10, 9, 8]
    for number in (8, 9, 10, 11):
        assert revision(client, author, post["id"], number).get_json()["body"] == bodies[number]


def test_revisions_of_a_trashed_post_are_404_until_it_is_restored(client, author):
    post = new_post(client, author, body="one")
    edit(client, author, post["id"], body="two")
    client.delete(f"{API}/posts/{post['id']}", headers=author.headers)
    assert_problem(revisions(client, author, post["id"]), 404)
    url = f"{API}/posts/{post['id']}/revisions/1/restore"
    assert_problem(client.post(url, headers=author.headers), 404)

    client.post(f"{API}/posts/{post['id']}/restore", headers=author.headers)
    assert numbers(client, author, post["id"]) == [2, 1]
