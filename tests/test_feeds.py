"""The feeds as a reader's tools see them: an author registers, writes and publishes, and
feedparser (Atom, RSS) and the JSON Feed 1.1 schema read every field back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.accounts import sign_up
from tests.support.feeds import KINDS, entry_ids, parse_json_feed, parse_xml_feed
from tests.support.media import image_bytes, upload
from tests.support.posts import API, new_post, publish, published_post

TITLE = "Tom & Jerry <script>alert(1)</script> 🐱‍👤 — مرحبا بالعالم"
BODY = (
    "Some *text* & more.\n\n"
    "```python\nif a < b and c > d:\n    print('<ok>')\n```\n\n"
    "![A cat](https://example.com/cat.png)\n\n"
    "שלום עולם, and emoji 🎉.\n"
)
TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


def fetch(client, kind, query="", **headers):
    """GET a feed; the response."""
    return client.get(f"/feed.{kind}{query}", headers=headers)


@pytest.fixture
def story(app, client):
    """An author registers through the API, uploads a cover, writes and publishes a post
    with a hard title, code, an image, tags and a summary."""
    account = sign_up(client, app, "amira", "author")
    client.patch(f"{API}/auth/me", headers=account.headers, json={"display_name": "Amira & Co"})
    cover = upload(client, account, image_bytes("PNG", (120, 90)), alt="A cover")
    assert cover.status_code == 201, cover.get_json()
    post = published_post(
        client,
        account,
        title=TITLE,
        body=BODY,
        summary="A <summary> & more",
        tags=["C++", "Python"],
        feature_image_id=cover.get_json()["id"],
    )
    return account, post, cover.get_json()


def test_the_atom_feed_round_trips_every_field(client, story):
    account, post, cover = story
    response = fetch(client, "atom")
    assert response.status_code == 200
    assert response.mimetype == TYPES["atom"]
    feed = parse_xml_feed(response.data)
    assert feed.version == "atom10"
    assert feed.feed.title == "blogapi"
    assert feed.feed.language == "en"
    assert feed.feed.generator == "blogapi"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": "http://localhost/feed.atom", "alternate": "http://localhost/"}
    (entry,) = feed.entries
    assert entry.id == f"tag:localhost,{post['created_at'][:10]}:posts/{post['id']}"
    assert entry.title == TITLE
    assert entry.content[0].type == "text/html"
    assert entry.content[0].value == post["body_html"].strip()  # feedparser trims
    assert "<pre><code>if a &lt; b" in entry.content[0].value
    assert '<img src="https://example.com/cat.png"' in entry.content[0].value
    assert entry.summary == "A <summary> & more"
    assert entry.author_detail.name == "Amira & Co"
    assert entry.author_detail.href == f"http://localhost/authors/{account.username}"
    assert [(t.term, t.label) for t in entry.tags] == [("c-plus-plus", "C++"), ("python", "Python")]
    assert entry.published == post["published_at"].replace("Z", "+00:00")
    assert entry.updated == post["updated_at"].replace("Z", "+00:00")
    assert feed.feed.updated == entry.updated
    assert response.last_modified == datetime.fromisoformat(post["updated_at"]).replace(
        microsecond=0
    )
    assert sorted(link.rel for link in entry.links) == ["alternate", "enclosure"]
    entry_links = {link.rel: link for link in entry.links}
    assert entry_links["alternate"].href == f"http://localhost/posts/{post['slug']}"
    enclosure = entry_links["enclosure"]
    assert enclosure.href == cover["url"]
    assert enclosure.type == "image/png"
    assert int(enclosure.length) == len(client.get(cover["url"]).data) > 0


def test_the_rss_feed_round_trips_every_field(client, story):
    _account, post, cover = story
    response = fetch(client, "rss")
    assert response.status_code == 200
    assert response.mimetype == TYPES["rss"]
    feed = parse_xml_feed(response.data)
    assert feed.version == "rss20"
    assert feed.feed.title == "blogapi"
    assert feed.feed.link == "http://localhost/"
    assert feed.feed.language == "en"
    assert any(
        link.rel == "self" and link.href == "http://localhost/feed.rss" for link in feed.feed.links
    )
    (item,) = feed.entries
    assert item.id == f"tag:localhost,{post['created_at'][:10]}:posts/{post['id']}"
    assert item.guidislink is False
    assert b'isPermaLink="false"' in response.data
    assert item.title == TITLE
    assert item.link == f"http://localhost/posts/{post['slug']}"
    assert item.content[0].value == post["body_html"].strip()
    assert item.summary == "A <summary> & more"
    assert item.author == "Amira & Co"
    assert [t.term for t in item.tags] == ["c-plus-plus", "python"]
    assert item.published_parsed[:6] == datetime.fromisoformat(post["published_at"]).timetuple()[:6]
    (enclosure,) = item.enclosures
    assert (enclosure.href, enclosure.type) == (cover["url"], "image/png")
    assert int(enclosure.length) == len(client.get(cover["url"]).data)


def test_the_json_feed_is_valid_and_round_trips_every_field(client, story):
    account, post, cover = story
    response = fetch(client, "json")
    assert response.status_code == 200
    assert response.mimetype == TYPES["json"]
    feed = parse_json_feed(response.data)
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "blogapi"
    assert feed["home_page_url"] == "http://localhost/"
    assert feed["feed_url"] == "http://localhost/feed.json"
    assert feed["language"] == "en"
    (item,) = feed["items"]
    assert item == {
        "id": f"tag:localhost,{post['created_at'][:10]}:posts/{post['id']}",
        "url": f"http://localhost/posts/{post['slug']}",
        "title": TITLE,
        "content_html": post["body_html"],
        "summary": "A <summary> & more",
        "image": cover["url"],
        "date_published": post["published_at"],
        "date_modified": post["updated_at"],
        "authors": [{"name": "Amira & Co", "url": f"http://localhost/authors/{account.username}"}],
        "tags": ["c-plus-plus", "python"],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_blog_has_a_valid_empty_feed(client, kind):
    response = fetch(client, kind)
    assert response.status_code == 200
    assert "Last-Modified" not in response.headers  # nothing has changed yet
    if kind == "json":
        assert parse_json_feed(response.data)["items"] == []
    else:
        feed = parse_xml_feed(response.data)
        assert feed.entries == []
        if kind == "atom":  # RFC 4287 asks for a feed-level updated and author
            assert feed.feed.updated and feed.feed.author_detail.name == "blogapi"


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
