"""What a reader may not see, and where old addresses lead: drafts, scheduled and trashed posts,
unknown tags and authors, pages past the last, renamed posts, and the headless mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.accounts import sign_up
from tests.support.media import key_of
from tests.support.posts import API, new_post, publish, published_post
from tests.support.problems import assert_problem, comparable
from tests.support.site import BROWSER, rich_post

SITE = "http://localhost"


def assert_error_page(response, status):
    """A browser's error page: HTML in the site's look, under the pages' CSP."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.get_data(as_text=True)
    assert f"<h1>{status} " in html and "/assets/site.css?v=" in html
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]


def hidden_posts(client, author):
    """A draft, a scheduled post and a trashed one, by slug."""
    draft = new_post(client, author, title="A draft", tags=["hidden"])
    scheduled = new_post(client, author, title="Scheduled", tags=["hidden"])
    later = datetime.now(UTC) + timedelta(days=1)
    assert publish(client, author, scheduled["id"], at=later).status_code == 200
    trashed = published_post(client, author, title="Trashed", tags=["hidden"])
    client.delete(f"{API}/posts/{trashed['id']}", headers=author.headers)
    return [draft["slug"], scheduled["slug"], trashed["slug"]]


def test_drafts_scheduled_and_trashed_posts_are_404_pages_for_browsers_problems_for_others(
    app, client
):
    ada = sign_up(client, app, "ada")
    for slug in hidden_posts(client, ada):
        assert_error_page(client.get(f"/posts/{slug}", headers=BROWSER), 404)
        assert_problem(client.get(f"/posts/{slug}", headers={"Accept": "*/*"}), 404)
        assert_problem(client.get(f"/posts/{slug}", headers={"Accept": "application/json"}), 404)
        assert_problem(client.get(f"/posts/{slug}"), 404)
    assert_error_page(client.get("/tags/hidden", headers=BROWSER), 404)  # no published post
    home = client.get("/").get_data(as_text=True)
    assert "A draft" not in home and "Scheduled" not in home and "Trashed" not in home


def test_unknown_tags_authors_and_posts_are_404(app, client):
    sign_up(client, app, "ada")
    for path in ("/tags/nothing", "/authors/nobody", "/posts/nothing", "/posts/Not_a_slug"):
        assert_error_page(client.get(path, headers=BROWSER), 404)
        assert_problem(client.get(path), 404)


# "\uff12" is a full-width 2: a digit to str.isdigit, not a page number.
NOT_PAGES = ["0", "-1", "abc", "1.5", "99999999999999", "", "\uff12", "2"]


@pytest.mark.parametrize("page", NOT_PAGES)
def test_a_page_that_is_not_there_is_404_never_500(app, client, page):
    ada = sign_up(client, app, "ada")
    published_post(client, ada, tags=["t"])
    for path in ("/", "/tags/t", "/authors/ada"):
        assert_problem(client.get(path, query_string={"page": page}), 404)
        assert_error_page(client.get(path, query_string={"page": page}, headers=BROWSER), 404)


def test_lists_are_paged_with_links_both_in_the_head_and_on_the_page(app, client):
    app.config["FEED_LENGTH"] = 2
    ada = sign_up(client, app, "ada")
    titles = [published_post(client, ada, title=f"Post {n}", tags=["t"])["title"] for n in range(5)]
    for base in ("/", "/tags/t", "/authors/ada"):
        first = client.get(base).get_data(as_text=True)
        assert f'<link rel="canonical" href="{SITE}{base}">' in first
        assert f'<link rel="next" href="{SITE}{base}?page=2">' in first
        assert f'<a rel="next" href="{SITE}{base}?page=2">' in first
        assert 'rel="prev"' not in first
        middle = client.get(f"{base}?page=2&utm_source=x").get_data(as_text=True)
        assert f'<link rel="canonical" href="{SITE}{base}?page=2">' in middle
        assert f'<link rel="prev" href="{SITE}{base}">' in middle
        assert f'<a rel="prev" href="{SITE}{base}">' in middle
        assert f'<a rel="next" href="{SITE}{base}?page=3">' in middle
        last = client.get(f"{base}?page=3").get_data(as_text=True)
        assert 'rel="next"' not in last and titles[0] in last
        assert titles[4] in first and titles[2] in middle
        assert client.get(f"{base}?page=4").status_code == 404


def test_an_old_slug_redirects_to_the_current_page_keeping_the_query(app, client):
    ada = sign_up(client, app, "ada")
    post = published_post(client, ada, title="First name")
    renamed = client.patch(
        f"{API}/posts/{post['id']}", json={"slug": "new-name"}, headers=ada.headers
    )
    assert renamed.status_code == 200, renamed.get_json()
    moved = client.get("/posts/first-name?utm_source=feed&x=%C3%A9")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{SITE}/posts/new-name?utm_source=feed&x=%C3%A9"
    assert client.get("/posts/new-name").status_code == 200
    app.config["SITE_URL"] = "https://blog.example.com"  # absolute on SITE_URL when it is set
    moved = client.get("/posts/first-name")
    assert moved.headers["Location"] == "https://blog.example.com/posts/new-name"
    client.post(f"{API}/posts/{post['id']}/unpublish", headers=ada.headers)
    assert_problem(client.get("/posts/first-name"), 404)  # the post is a draft again
    assert_error_page(client.get("/posts/first-name", headers=BROWSER), 404)


def test_a_headless_site_serves_no_page_but_keeps_media(app, client):
    ada = sign_up(client, app, "ada")
    post = rich_post(client, ada)
    app.config["PUBLIC_SITE"] = False
    for path in ("/", f"/posts/{post['slug']}", "/tags/python", "/authors/ada", "/assets/site.css"):
        assert_problem(client.get(path, headers=BROWSER), 404)
        page = client.get(path)
        assert comparable(page) == comparable(client.get("/no-such-route"))  # as if not there
        assert page.status_code == 404
    assert client.get(f"/media/{key_of(post['feature_image']['url'])}").status_code == 200
    assert client.get(f"{API}/posts/{post['slug']}").status_code == 200
