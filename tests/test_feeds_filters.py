"""What the feeds hold over time and by filter: stable ids, a moving `updated`, only published
posts, ?tag and ?author, problems for bad filters, and FEED_LENGTH."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.feeds import KINDS, entry_ids, parse_json_feed, parse_xml_feed
from tests.support.posts import API, new_post, publish, published_post


def fetch(client, kind, query=""):
    """GET a feed; the response."""
    return client.get(f"/feed.{kind}{query}")


@pytest.mark.parametrize("kind", KINDS)
def test_ids_stay_when_slug_and_title_change_and_updated_moves_on_an_edit(
    client, author, kind, monkeypatch
):
    post = published_post(client, author, title="First title")
    before = fetch(client, kind)
    later = datetime.now(UTC) + timedelta(minutes=5)
    monkeypatch.setattr("blogapi.posts.service.request_now", lambda: later)
    edit = {"title": "Another title", "slug": "another-slug"}
    changed = client.patch(f"{API}/posts/{post['id']}", headers=author.headers, json=edit)
    assert changed.status_code == 200, changed.get_json()
    after = fetch(client, kind)
    assert entry_ids(kind, after.data) == entry_ids(kind, before.data)
    assert b"another-slug" in after.data and b"Another title" in after.data
    assert after.last_modified > before.last_modified
    if kind == "json":
        item = parse_json_feed(after.data)["items"][0]
        assert item["date_modified"] == changed.get_json()["updated_at"] != post["updated_at"]
    else:
        feed = parse_xml_feed(after.data)
        assert feed.feed.get("updated", feed.feed.get("updated")) is not None
        if kind == "atom":
            assert feed.entries[0].updated > parse_xml_feed(before.data).entries[0].updated


@pytest.mark.parametrize("kind", KINDS)
def test_drafts_scheduled_and_trashed_posts_never_appear(client, author, kind):
    shown = published_post(client, author, title="Shown")
    new_post(client, author, title="A draft")
    scheduled = new_post(client, author, title="Scheduled")
    assert (
        publish(client, author, scheduled["id"], datetime.now(UTC) + timedelta(days=1)).status_code
        == 200
    )
    trashed = published_post(client, author, title="Trashed")
    assert client.delete(f"{API}/posts/{trashed['id']}", headers=author.headers).status_code == 204
    body = fetch(client, kind).data
    assert [i.rsplit("/", 1)[1] for i in entry_ids(kind, body)] == [str(shown["id"])]
    for title in (b"A draft", b"Scheduled", b"Trashed"):
        assert title not in body


@pytest.mark.parametrize("kind", KINDS)
def test_tag_and_author_narrow_the_feed(client, make_account, kind):
    alice, bob = make_account("author", "alice"), make_account("author", "bob")
    a_py = published_post(client, alice, title="Alice on Python", tags=["Python"])
    published_post(client, alice, title="Alice on Rust", tags=["Rust"])
    b_py = published_post(client, bob, title="Bob on Python", tags=["python"])

    def ids(query):
        response = fetch(client, kind, query)
        assert response.status_code == 200, response.get_json()
        return [int(i.rsplit("/", 1)[1]) for i in entry_ids(kind, response.data)]

    assert ids("?tag=PYTHON") == [b_py["id"], a_py["id"]]
    assert ids("?author=ALICE&tag=python") == [a_py["id"]]
    assert len(ids("?author=bob")) == 1
    body = fetch(client, kind, "?tag=python&author=alice").data
    self_url = f"http://localhost/feed.{kind}?tag=python&amp;author=alice"
    assert self_url.encode() in body or self_url.replace("&amp;", "&").encode() in body
    assert b"http://localhost/tags/python" in body  # the alternate: the tag's page
    assert "blogapi — alice — Python".encode() in body


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?tag=nothing-here", 404),
        ("?author=nobody", 404),
        ("?tag=-bad-", 422),
        ("?tag=" + "a" * 41, 422),
        ("?author=x", 422),
        ("?author=" + "%F0%9F%90%B1" * 40, 422),
        ("?tag=%00", 422),
    ],
)
def test_unknown_or_bad_filters_are_problems_never_500(client, author, query, status):
    published_post(client, author, tags=["python"])
    for kind in KINDS:
        response = fetch(client, kind, query)
        assert response.status_code == status, (kind, response.data)
        assert response.mimetype == "application/problem+json"


def test_a_tag_with_only_drafts_is_404_and_unknown_parameters_are_ignored(client, author):
    new_post(client, author, tags=["secret"])
    assert fetch(client, "atom", "?tag=secret").status_code == 404
    assert fetch(client, "atom", "?utm_source=reader").status_code == 200


def test_the_feed_length_is_feed_length(app, client, author):
    app.config["FEED_LENGTH"] = 3
    posts = [published_post(client, author, title=f"Post {n}") for n in range(5)]
    ids = entry_ids("json", fetch(client, "json").data)
    assert [int(i.rsplit("/", 1)[1]) for i in ids] == [p["id"] for p in reversed(posts)][:3]
