"""Stories about the trash: a deleted post leaves every list at once, keeps its slug, and comes
back exactly as it was until it is purged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blogapi.db.models import PostRevision, Tag
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.posts import API, iso, new_post, publish, published_post
from tests.support.problems import assert_problem


def trash(client, account, post_id, **headers):
    """DELETE /posts/{id}: to the trash; the response."""
    return client.delete(f"{API}/posts/{post_id}", headers=account.headers | headers)


def restore(client, account, post_id, **headers):
    """POST /posts/{id}/restore; the response."""
    return client.post(f"{API}/posts/{post_id}/restore", headers=account.headers | headers)


def purge(client, account, post_id, **headers):
    """DELETE /trash/{id}; the response."""
    return client.delete(f"{API}/trash/{post_id}", headers=account.headers | headers)


def in_trash(client, account, **params):
    """The ids in GET /trash as `account` sees it."""
    response = client.get(f"{API}/trash", headers=account.headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def listed(client, account=None, **params):
    """The ids in GET /posts (anonymous unless `account`)."""
    headers = account.headers if account else {}
    response = client.get(f"{API}/posts", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]], response.headers["X-Total-Count"]


def rows(app, model) -> int:
    """How many rows a model's table holds."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_deleted_post_leaves_every_list_count_search_and_tag_at_once(
    client, author, make_account
):
    editor = make_account("editor")
    kept = published_post(client, author, title="Kept garden", tags=["garden"])
    gone = published_post(client, author, title="Gone garden", tags=["garden", "only-here"])
    draft = new_post(client, author, title="Draft garden")
    for reader in (None, author, editor):  # fill the public cache and the counts first
        listed(client, reader, status="all")
    assert client.get(f"{API}/posts", query_string={"q": "garden"}).get_json()["meta"]["total"] == 2

    assert trash(client, author, gone["id"]).status_code == 204
    assert trash(client, author, draft["id"]).status_code == 204

    assert listed(client) == ([kept["id"]], "1")
    for reader in (author, editor):
        assert listed(client, reader, status="all") == ([kept["id"]], "1")
        assert listed(client, reader, status="draft") == ([], "0")
    assert listed(client, tag="only-here") == ([], "0")
    assert listed(client, author=author.username) == ([kept["id"]], "1")
    found = client.get(f"{API}/posts", query_string={"q": "garden"}).get_json()
    assert [item["id"] for item in found["items"]] == [kept["id"]]
    assert client.get(f"{API}/tags").get_json() == [
        {"name": "garden", "slug": "garden", "post_count": 1}
    ]
    for ident in (gone["id"], gone["slug"]):
        assert_problem(client.get(f"{API}/posts/{ident}"), 404)
        assert_problem(client.get(f"{API}/posts/{ident}", headers=editor.headers), 404)
    assert_problem(client.patch(f"{API}/posts/{gone['id']}", json={}, headers=author.headers), 404)
    assert_problem(trash(client, author, gone["id"]), 404)


def test_a_trashed_posts_slug_stays_reserved(client, author):
    gone = new_post(client, author, title="Reserved")
    trash(client, author, gone["id"])
    again = new_post(client, author, title="Reserved")
    assert again["slug"] == "reserved-2"
    taken = client.patch(
        f"{API}/posts/{again['id']}", json={"slug": "reserved"}, headers=author.headers
    )
    assert_problem(taken, 409)
    assert_problem(new_post_response(client, author, slug="reserved"), 409)


def new_post_response(client, author, **fields):
    """POST /posts; the response."""
    payload = {"title": "A post", "body": "Text."} | fields
    return client.post(f"{API}/posts", json=payload, headers=author.headers)


def test_the_trash_lists_who_deleted_what_and_when_newest_first(client, author, make_account):
    editor = make_account("editor")
    first = new_post(client, author, title="First")
    second = published_post(client, author, title="Second")
    before = utcnow()
    trash(client, author, first["id"])
    trash(client, editor, second["id"])

    response = client.get(f"{API}/trash", headers=author.headers)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "2"
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == [second["id"], first["id"]]
    newest = items[0]
    assert newest["deleted_by"] == {"username": editor.username, "display_name": editor.username}
    assert newest["deleted_at"] >= iso(before)
    assert newest["status"] == "published" and newest["title"] == "Second"
    assert "match" not in newest


def test_each_sees_their_own_trash_and_editors_see_everyones(client, author, make_account):
    other = make_account("author")
    contributor = make_account("contributor")
    editor = make_account("editor")
    mine = new_post(client, author)
    theirs = new_post(client, other)
    contributed = new_post(client, contributor)
    for account, post in ((author, mine), (other, theirs), (contributor, contributed)):
        trash(client, account, post["id"])

    assert in_trash(client, author) == [mine["id"]]
    assert in_trash(client, contributor) == [contributed["id"]]
    assert sorted(in_trash(client, editor)) == sorted([mine["id"], theirs["id"], contributed["id"]])
    assert_problem(client.get(f"{API}/trash"), 401)
    assert_problem(restore(client, other, mine["id"]), 404)
    assert_problem(purge(client, other, mine["id"]), 404)


def test_the_trash_is_paged(client, author):
    ids = []
    for n in range(5):
        post = new_post(client, author, title=f"Post {n}")
        trash(client, author, post["id"])
        ids.append(post["id"])
    assert in_trash(client, author, page=2, per_page=2) == [ids[2], ids[1]]


def test_a_restored_post_is_back_exactly_as_it_was(client, author):
    later = utcnow() + timedelta(days=3)
    published = published_post(client, author, title="Published", tags=["Kept Tag"])
    scheduled = new_post(client, author, title="Scheduled")
    scheduled = publish(client, author, scheduled["id"], later).get_json()
    draft = new_post(client, author, title="Draft")
    for post in (published, scheduled, draft):
        before = client.get(f"{API}/posts/{post['id']}", headers=author.headers)
        trash(client, author, post["id"])

        response = restore(client, author, post["id"])
        assert response.status_code == 200
        assert response.get_json() == before.get_json()
        assert response.headers["ETag"] == before.headers["ETag"]
    assert listed(client, author, status="all")[1] == "3"
    assert client.get(f"{API}/tags").get_json()[0]["name"] == "Kept Tag"
    assert in_trash(client, author) == []


def test_restore_and_purge_are_for_posts_in_the_trash_only(client, author):
    live = new_post(client, author)
    assert_problem(restore(client, author, live["id"]), 404)
    assert_problem(purge(client, author, live["id"]), 404)
    assert_problem(restore(client, author, "no-such-post"), 404)


def test_restore_and_purge_honour_if_match(client, author):
    post = new_post(client, author)
    etag = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    trash(client, author, post["id"])
    assert_problem(restore(client, author, post["id"], **{"If-Match": '"stale"'}), 412)
    assert_problem(purge(client, author, post["id"], **{"If-Match": '"stale"'}), 412)
    assert restore(client, author, post["id"], **{"If-Match": etag}).status_code == 200


def test_purging_deletes_the_post_its_revisions_and_its_lonely_tags(app, client, author):
    other = published_post(client, author, tags=["shared"])
    post = new_post(client, author, tags=["shared", "lonely"])
    client.patch(f"{API}/posts/{post['id']}", json={"body": "Edited."}, headers=author.headers)
    trash(client, author, post["id"])
    assert rows(app, PostRevision) == 3 and rows(app, Tag) == 2

    assert purge(client, author, post["id"]).status_code == 204
    assert rows(app, PostRevision) == 1 and rows(app, Tag) == 1
    assert_problem(restore(client, author, post["id"]), 404)
    assert_problem(purge(client, author, post["id"]), 404)
    assert in_trash(client, author) == []
    assert listed(client) == ([other["id"]], "1")


def test_who_may_restore_and_purge(client, author, make_account):
    contributor = make_account("contributor")
    editor = make_account("editor")
    own_draft = new_post(client, contributor, title="Contributor's draft")
    trash(client, contributor, own_draft["id"])
    assert_problem(purge(client, contributor, own_draft["id"]), 403)
    assert restore(client, contributor, own_draft["id"]).status_code == 200

    published_by_editor = new_post(client, contributor, title="Published for them")
    publish(client, editor, published_by_editor["id"])
    trash(client, editor, published_by_editor["id"])
    assert in_trash(client, contributor) == [published_by_editor["id"]]
    assert_problem(restore(client, contributor, published_by_editor["id"]), 403)
    assert restore(client, editor, published_by_editor["id"]).status_code == 200

    post = new_post(client, author)
    trash(client, author, post["id"])
    assert purge(client, editor, post["id"]).status_code == 204
