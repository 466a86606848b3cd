"""Feeds through the public cache: ETag and Last-Modified with 304, a fresh copy after any
publish, the same number of queries however many posts there are, and on in headless mode."""

from __future__ import annotations

import pytest
from werkzeug.http import http_date

from tests.support.accounts import sign_up
from tests.support.apps import dispose, make_app
from tests.support.databases import counted_queries
from tests.support.feeds import KINDS, entry_ids, parse_json_feed, parse_xml_feed
from tests.support.posts import API, new_post, publish, published_post


@pytest.mark.parametrize("kind", KINDS)
def test_304_for_if_none_match_and_for_if_modified_since(client, author, kind):
    published_post(client, author)
    first = client.get(f"/feed.{kind}")
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(f"/feed.{kind}", headers={"If-None-Match": etag})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", etag)
    assert client.get(f"/feed.{kind}", headers={"If-Modified-Since": modified}).status_code == 304
    older = http_date(first.last_modified.timestamp() - 1)
    assert client.get(f"/feed.{kind}", headers={"If-Modified-Since": older}).status_code == 200
    other = client.get(f"/feed.{kind}", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_a_publish_refreshes_the_cached_feed(client, author, kind):
    first = published_post(client, author, title="First")
    cached = client.get(f"/feed.{kind}")
    assert client.get(f"/feed.{kind}").data == cached.data  # served again (from the cache)
    draft = new_post(client, author, title="Second")
    assert client.get(f"/feed.{kind}").data == cached.data  # a draft changes nothing shown
    assert publish(client, author, draft["id"]).status_code == 200
    fresh = client.get(f"/feed.{kind}", headers={"If-None-Match": cached.headers["ETag"]})
    assert fresh.status_code == 200
    ids = [int(i.rsplit("/", 1)[1]) for i in entry_ids(kind, fresh.data)]
    assert ids == [draft["id"], first["id"]]


def feed_queries(app, client, kind):
    """The SQL statements of one uncached feed request."""
    app.extensions["blogapi.public_cache"].entries.clear()
    with counted_queries(app) as statements:
        response = client.get(f"/feed.{kind}")
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("kind", KINDS)
def test_a_feed_costs_the_same_queries_for_2_and_12_posts(app, client, make_account, kind):
    writers = [make_account("author") for _ in range(3)]
    for n in range(2):
        published_post(client, writers[n], tags=[f"t{n}", "shared"])
    small = feed_queries(app, client, kind)
    for n in range(10):
        published_post(client, writers[n % 3], tags=[f"t{n}", "shared", f"x{n}"])
    assert feed_queries(app, client, kind) == small
    assert feed_queries(app, client, kind + "?tag=shared") <= small + 1  # the tag's lookup


@pytest.mark.parametrize("kind", KINDS)
def test_feeds_stay_on_without_the_public_site_and_still_link_the_pages(kind):
    """Headless: the pages are off here, but the links keep naming their addresses, where a
    front end of the blog's own at SITE_URL serves them."""
    app = make_app(PUBLIC_SITE=False)
    try:
        client = app.test_client()
        author = sign_up(client, app, "headless")
        post = published_post(client, author)
        response = client.get(f"/feed.{kind}")
        assert response.status_code == 200
        if kind == "json":
            feed = parse_json_feed(response.data)
            assert feed["home_page_url"] == "http://localhost/"
            assert feed["items"][0]["url"] == f"http://localhost/posts/{post['slug']}"
        else:
            entry = parse_xml_feed(response.data).entries[0]
            assert entry.link == f"http://localhost/posts/{post['slug']}"
        assert client.get(f"{API}/posts").status_code == 200
    finally:
        dispose(app)
