"""Feeds and sitemap over real HTTP, under gunicorn in production mode: every absolute URL is
on SITE_URL whatever Host the client sends, and both workers give the same ETag."""

from __future__ import annotations

import re

import pytest
import requests

from tests.support.feeds import parse_xml_feed
from tests.support.live import production_server

SITE = "https://blog.example.org/journal"
PASSWORD = "correct horse battery staple"
OTHER_HOST = {"Host": "mirror.example"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """blogapi under gunicorn (two workers) with SITE_URL set and a second trusted host."""
    settings = {"SITE_URL": SITE, "TRUSTED_HOSTS": "blog.example.org,mirror.example,127.0.0.1"}
    with production_server(tmp_path_factory.mktemp("feeds-live"), **settings) as live:
        yield live


def publish_a_post(api: str) -> dict:
    """A writer registers, logs in, writes and publishes; the published post."""
    account = {"username": "noor", "email": "noor@example.com", "password": PASSWORD}
    assert requests.post(f"{api}/auth/register", json=account, timeout=10).status_code == 201
    token = requests.post(
        f"{api}/auth/login", json={"username": "noor", "password": PASSWORD}, timeout=10
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    post = requests.post(
        f"{api}/posts",
        json={"title": "Live & well", "body": "Hello <world>.", "tags": ["Live"]},
        headers=auth,
        timeout=10,
    ).json()
    published = requests.post(f"{api}/posts/{post['id']}/publish", headers=auth, timeout=10)
    assert published.status_code == 200
    return published.json()


def absolute_urls(text: str) -> list[str]:
    """Every http(s) URL in a document but XML namespace names."""
    found = re.findall(r"https?://[^\s\"'<>]+", text)
    return [url for url in found if not url.startswith(("http://www.w3.org", "http://purl.org"))]


def test_feed_and_sitemap_urls_are_on_site_url_whatever_the_host(server):
    post = publish_a_post(server.api)
    feed = requests.get(f"{server.url}/feed.atom", headers=OTHER_HOST, timeout=10)
    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = parse_xml_feed(feed.content)
    assert parsed.entries[0].link == f"{SITE}/posts/{post['slug']}"
    assert parsed.entries[0].id.startswith("tag:blog.example.org,")
    urls = absolute_urls(feed.text)
    assert urls and all(url.startswith(SITE + "/") for url in urls), urls
    sitemap = requests.get(f"{server.url}/sitemap.xml", headers=OTHER_HOST, timeout=10)
    assert sitemap.status_code == 200
    assert sitemap.headers["Content-Type"] == "application/xml; charset=utf-8"
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap.text)
    assert locs == [f"{SITE}/", f"{SITE}/tags/live", f"{SITE}/posts/{post['slug']}"]
    robots = requests.get(f"{server.url}/robots.txt", headers=OTHER_HOST, timeout=10).text
    assert f"Sitemap: {SITE}/sitemap.xml" in robots.splitlines()


def test_every_worker_gives_the_same_etag_and_304(server):
    etags = {requests.get(f"{server.url}/feed.rss", timeout=10).headers["ETag"] for _ in range(6)}
    assert len(etags) == 1
    (etag,) = etags
    for _ in range(4):
        again = requests.get(f"{server.url}/feed.rss", headers={"If-None-Match": etag}, timeout=10)
        assert again.status_code == 304
