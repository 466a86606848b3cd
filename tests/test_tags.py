"""Stories about GET /tags: the tags readers can browse, with counts of published posts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from blogapi.db.models import Tag
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.posts import API, new_post, publish, published_post, write_post


def test_no_posts_no_tags(client):
    response = client.get(f"{API}/tags")
    assert response.status_code == 200
    assert response.get_json() == []


def test_tags_count_published_posts_busiest_first_then_by_slug(client, author):
    published_post(client, author, tags=["Python", "web"])
    published_post(client, author, tags=["python", "Rust"])
    published_post(client, author, tags=["PYTHON", "web", "apple"])

    assert client.get(f"{API}/tags").get_json() == [
        {"name": "Python", "slug": "python", "post_count": 3},
        {"name": "web", "slug": "web", "post_count": 2},
        {"name": "apple", "slug": "apple", "post_count": 1},
        {"name": "Rust", "slug": "rust", "post_count": 1},
    ]


def test_drafts_and_scheduled_posts_are_not_counted(client, author):
    published_post(client, author, tags=["shown"])
    new_post(client, author, tags=["shown", "draft-only"])
    later = new_post(client, author, tags=["shown", "scheduled-only"])
    publish(client, author, later["id"], utcnow() + timedelta(days=1))

    assert client.get(f"{API}/tags", headers=author.headers).get_json() == [
        {"name": "shown", "slug": "shown", "post_count": 1}
    ]


def test_a_tag_keeps_its_first_spelling_and_later_ones_share_it(client, author):
    first = published_post(client, author, tags=["Crème Brûlée"])
    second = published_post(client, author, tags=["creme brulee"])
    assert first["tags"] == second["tags"] == ["creme-brulee"]
    assert client.get(f"{API}/tags").get_json() == [
        {"name": "Crème Brûlée", "slug": "creme-brulee", "post_count": 2}
    ]


def test_untagging_and_unpublishing_update_the_counts(client, author):
    one = published_post(client, author, tags=["a", "b"])
    two = published_post(client, author, tags=["a"])
    client.patch(f"{API}/posts/{one['id']}", json={"tags": ["a"]}, headers=author.headers)
    client.post(f"{API}/posts/{two['id']}/unpublish", headers=author.headers)
    assert client.get(f"{API}/tags").get_json() == [{"name": "a", "slug": "a", "post_count": 1}]


def test_a_post_refused_for_its_slug_leaves_none_of_its_new_tags_behind(app, client, author):
    new_post(client, author, slug="taken")
    refused = write_post(client, author, slug="taken", tags=["orphan"])
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tag)) == 0


def tags_now(client) -> list[dict]:
    """GET /tags as an anonymous reader (through the public cache) sees it."""
    response = client.get(f"{API}/tags")
    assert response.status_code == 200
    return response.get_json()


def tag_rows(app) -> list[tuple[str, str]]:
    """(slug, name) of every stored tag."""
    with app.app_context():
        return [tuple(row) for row in db.session.execute(select(Tag.slug, Tag.name))]


def test_a_deleted_drafts_spelling_leaves_with_it(app, client, author):
    draft = new_post(client, author, tags=["SECRET Project Falcon"])
    deleted = client.delete(f"{API}/posts/{draft['id']}", headers=author.headers)
    assert deleted.status_code == 204
    assert tags_now(client) == []
    purged = client.delete(f"{API}/trash/{draft['id']}", headers=author.headers)
    assert purged.status_code == 204
    assert tag_rows(app) == []  # no post uses it: the tag is gone with its spelling
    published_post(client, author, tags=["secret project falcon"])
    assert tags_now(client) == [
        {"name": "secret project falcon", "slug": "secret-project-falcon", "post_count": 1}
    ]


def test_a_draft_never_names_a_tag_readers_see(client, author, make_account):
    other = make_account("author")
    draft = new_post(client, other, tags=["PYTHON (rewrite plan)"])
    published_post(client, author, tags=["Python rewrite plan"])
    assert tags_now(client)[0]["name"] == "Python rewrite plan"
    publish(client, other, draft["id"])
    assert tags_now(client) == [  # named by the first post published with it
        {"name": "Python rewrite plan", "slug": "python-rewrite-plan", "post_count": 2}
    ]


def test_the_name_follows_the_published_posts_that_use_it(client, author):
    first = published_post(client, author, tags=["Python"])
    second = published_post(client, author, tags=["PYTHON"])
    assert tags_now(client)[0]["name"] == "Python"
    client.post(f"{API}/posts/{first['id']}/unpublish", headers=author.headers)
    assert tags_now(client)[0]["name"] == "PYTHON"
    respelled = client.patch(
        f"{API}/posts/{second['id']}", json={"tags": ["python"]}, headers=author.headers
    )
    assert respelled.status_code == 200 and respelled.get_json()["tags"] == ["python"]
    assert tags_now(client) == [{"name": "python", "slug": "python", "post_count": 1}]


def test_a_tag_no_post_uses_any_more_is_deleted(app, client, author):
    post = new_post(client, author, tags=["kept", "dropped"])
    new_post(client, author, tags=["kept"])
    client.patch(f"{API}/posts/{post['id']}", json={"tags": ["kept"]}, headers=author.headers)
    assert tag_rows(app) == [("kept", "kept")]
    client.patch(f"{API}/posts/{post['id']}", json={"tags": []}, headers=author.headers)
    assert tag_rows(app) == [("kept", "kept")]  # the other post still uses it


def test_c_cplusplus_csharp_and_friends_are_different_tags(client, author):
    names = ["C", "C++", "C#", "F#", "Notepad++", ".NET", "NET"]
    post = published_post(client, author, tags=names)
    assert sorted(post["tags"]) == [
        "c",
        "c-plus-plus",
        "c-sharp",
        "dot-net",
        "f-sharp",
        "net",
        "notepad-plus-plus",
    ]
    assert sorted(tag["name"] for tag in tags_now(client)) == sorted(names)
    listed = client.get(f"{API}/posts", query_string={"tag": "c-sharp"}).get_json()
    assert [item["id"] for item in listed["items"]] == [post["id"]]
