"""Reader pages from the public cache (ETag, 304, refreshed when content changes), their
security headers, their stylesheet, and a cost that does not grow with the number of posts."""

from __future__ import annotations

import pytest

from tests.support.accounts import sign_up
from tests.support.databases import counted_queries
from tests.support.posts import API, new_post, publish, published_post
from tests.support.site import BROWSER, rich_post

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def test_a_page_is_cached_with_an_etag_and_refreshed_when_a_post_is_published(app, client):
    ada = sign_up(client, app, "ada")
    published_post(client, ada, title="The first post")
    first = client.get("/")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304
    draft = new_post(client, ada, title="The second post")
    assert client.get("/", headers={"If-None-Match": etag}).status_code == 304  # drafts unseen
    publish(client, ada, draft["id"])
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert "The second post" in again.get_data(as_text=True)
    assert again.headers["ETag"] != etag


def test_a_post_page_has_last_modified_and_answers_conditional_requests(app, client):
    ada = sign_up(client, app, "ada")
    post = published_post(client, ada, title="Dated")
    page = client.get(f"/posts/{post['slug']}")
    modified = page.headers["Last-Modified"]
    assert (
        client.get(f"/posts/{post['slug']}", headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    etag = page.headers["ETag"]
    client.patch(f"{API}/posts/{post['id']}", json={"title": "Changed"}, headers=ada.headers)
    changed = client.get(f"/posts/{post['slug']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Changed" in changed.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/posts/a-post", "/tags/t", "/authors/ada", "/posts/none"])
def test_pages_and_error_pages_carry_a_strict_csp_and_the_security_headers(app, client, path):
    ada = sign_up(client, app, "ada")
    published_post(client, ada, title="A post", tags=["t"])
    response = client.get(path, headers=BROWSER)
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert client.get(f"{API}/posts").headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )


def test_images_from_a_media_host_are_allowed_by_the_csp(app, client):
    app.config["MEDIA_PUBLIC_URL"] = "https://cdn.example.com/blog-media"
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' https://cdn.example.com data:;" in csp


def test_the_stylesheet_is_kept_long_at_its_current_version_only(app, client):
    html = client.get("/").get_data(as_text=True)
    href = html.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    sheet = client.get(href)
    assert sheet.status_code == 200
    assert sheet.headers["Content-Type"].startswith("text/css")
    assert "prefers-color-scheme: dark" in sheet.get_data(as_text=True)
    assert sheet.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get(href, headers={"If-None-Match": sheet.headers["ETag"]}).status_code == 304
    stale = client.get("/assets/site.css?v=old")
    assert stale.headers["Cache-Control"] == "public, no-cache"
    assert client.get("/assets/nothing.css").status_code == 404


def page_queries(app, client, path):
    """The statements one uncached read of a page runs."""
    with counted_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return statements


def test_a_page_runs_the_same_queries_whatever_the_number_of_posts(app, client):
    ada = sign_up(client, app, "ada")
    cover = rich_post(client, ada, tags=["t", "u"])["feature_image"]["id"]
    paths = ["/", "/tags/t", "/authors/ada", "/posts/first"]
    published_post(client, ada, title="First", tags=["t"], feature_image_id=cover)
    few = {path: len(page_queries(app, client, path)) for path in paths}
    for n in range(6):
        published_post(client, ada, title=f"More {n}", tags=["t", f"x{n}"], feature_image_id=cover)
    many = {}
    for path in paths:
        publish(client, ada, new_post(client, ada)["id"])  # a new version: every page uncached
        many[path] = len(page_queries(app, client, path))
    assert many == few
    # content version, next go-live, then: count, page, tags (+ the tag, or the author)
    assert few == {"/": 5, "/tags/t": 6, "/authors/ada": 6, "/posts/first": 4}, few
