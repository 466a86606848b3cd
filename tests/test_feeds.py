"""The feeds as a reader's tools see them: an author registers, writes and publishes, and
feedparser (Atom, RSS) and the JSON Feed 1.1 schema read every field back."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.accounts import sign_up
from tests.support.feeds import KINDS, parse_json_feed, parse_xml_feed
from tests.support.media import image_bytes, upload
from tests.support.posts import API, published_post

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
    # Last-Modified: the blog's latest change, here the publish (stamped a moment after).
    changed = datetime.fromisoformat(post["updated_at"]).replace(microsecond=0)
    assert changed <= response.last_modified <= changed + timedelta(seconds=5)
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
