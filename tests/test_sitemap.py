"""The sitemap as search engines read it (valid under the sitemaps.org XSDs, read by lxml),
its index past the URL limit, and robots.txt naming it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from tests.support.apps import dispose, make_app
from tests.support.databases import counted_queries
from tests.support.feeds import DATA
from tests.support.posts import API, new_post, publish, published_post

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def validated(body: bytes, xsd: str) -> etree._Element:
    """The document, after the sitemaps.org schema `xsd` has accepted it."""
    schema = etree.XMLSchema(etree.parse(str(DATA / xsd)))
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log
    return document


def urls(body: bytes) -> dict[str, str | None]:
    """A sitemap file's URLs and their lastmod."""
    document = validated(body, "sitemap.xsd")
    return {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
        for url in document.iterfind("s:url", NS)
    }


def lastmod(stamp: str) -> str:
    """A contract timestamp as the sitemap writes it (to the second)."""
    return stamp[:19] + "Z"


def test_the_sitemap_lists_home_tag_pages_and_published_posts_only(client, author):
    new_post(client, author, title="Draft", tags=["drafty"])  # written first: lowest ids
    scheduled = new_post(client, author, title="Later", tags=["soon"])
    publish(client, author, scheduled["id"], datetime.now(UTC) + timedelta(days=1))
    first = published_post(client, author, title="First", tags=["Python", "Go"])
    second = published_post(client, author, title="Second", tags=["Python"])
    trashed = published_post(client, author, title="Gone", tags=["gone"])
    client.delete(f"{API}/posts/{trashed['id']}", headers=author.headers)
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert urls(response.data) == {
        "http://localhost/": lastmod(second["updated_at"]),
        "http://localhost/tags/go": lastmod(first["updated_at"]),
        "http://localhost/tags/python": lastmod(second["updated_at"]),
        f"http://localhost/posts/{first['slug']}": lastmod(first["updated_at"]),
        f"http://localhost/posts/{second['slug']}": lastmod(second["updated_at"]),
    }


def test_an_empty_blog_lists_its_front_page(client):
    assert urls(client.get("/sitemap.xml").data) == {"http://localhost/": None}


def test_past_the_limit_the_sitemap_is_an_index_of_parts(client, author, monkeypatch):
    for n in range(6):
        published_post(client, author, title=f"Post {n}", tags=[f"tag{n % 2}"])
    whole = urls(client.get("/sitemap.xml").data)
    assert len(whole) == 9  # home, 2 tags, 6 posts
    assert client.get("/sitemap-1.xml").status_code == 404  # one file: no parts
    monkeypatch.setattr("blogapi.site.sitemap.URLS_PER_SITEMAP", 4)
    client.application.extensions["blogapi.public_cache"].clear()  # made with the old limit
    client.application.extensions["blogapi.fast_reads"].entries.clear()
    index = validated(client.get("/sitemap.xml").data, "siteindex.xsd")
    assert etree.QName(index).localname == "sitemapindex"
    locs = [loc.text for loc in index.iterfind("s:sitemap/s:loc", NS)]
    assert locs == [f"http://localhost/sitemap-{n}.xml" for n in (1, 2, 3)]
    parts = [urls(client.get(loc).data) for loc in locs]
    assert [len(part) for part in parts] == [4, 4, 1]
    assert {url: when for part in parts for url, when in part.items()} == whole
    missing = client.get("/sitemap-4.xml")
    assert (missing.status_code, missing.mimetype) == (404, "application/problem+json")


def test_the_sitemap_is_cached_with_304_and_refreshed_by_a_publish(client, author):
    published_post(client, author)
    first = client.get("/sitemap.xml")
    etag = first.headers["ETag"]
    assert client.get("/sitemap.xml", headers={"If-None-Match": etag}).status_code == 304
    published_post(client, author, title="Another")
    fresh = client.get("/sitemap.xml", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and len(urls(fresh.data)) == 3


def test_the_sitemap_costs_the_same_queries_for_2_and_12_posts(app, client, author):
    def queries():
        app.extensions["blogapi.public_cache"].entries.clear()
        with counted_queries(app) as statements:
            assert client.get("/sitemap.xml").status_code == 200
        return len(statements)

    for n in range(2):
        published_post(client, author, tags=[f"t{n}"])
    small = queries()
    for n in range(10):
        published_post(client, author, tags=[f"u{n}"])
    assert queries() == small


def test_robots_txt_allows_all_but_the_api_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines and "Disallow: /api/" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert [line for line in lines if line.startswith("Disallow")] == ["Disallow: /api/"]


@pytest.mark.parametrize("public_site", [True, False])
def test_under_a_site_url_with_a_path_and_headless_too(public_site):
    app = make_app(SITE_URL="https://example.com/blog", PUBLIC_SITE=public_site)
    try:
        client = app.test_client()
        robots = client.get("/robots.txt", headers={"Host": "evil.example"}).get_data(as_text=True)
        assert "Disallow: /blog/api/" in robots.splitlines()
        assert "Sitemap: https://example.com/blog/sitemap.xml" in robots.splitlines()
        assert urls(client.get("/sitemap.xml").data) == {"https://example.com/blog/": None}
    finally:
        dispose(app)
