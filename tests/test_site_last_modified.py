"""Last-Modified on feeds and pages moves forward with every change readers could see,
including what leaves a page (an unpublished post) and what a page shows besides posts (an
author's name and bio); a client holding an older copy never gets a 304 for it."""

from __future__ import annotations

from sqlalchemy import text

from blogapi.extensions import db
from tests.support.posts import API, published_post

BROWSER = {"Accept": "text/html"}


def an_hour_ago(app) -> None:
    """Everything written so far happened an hour ago (posts, and the content's last change)."""
    with app.app_context():
        earlier = (
            "datetime('now', '-1 hour')"
            if db.engine.dialect.name == "sqlite"
            else ("timezone('utc', now()) - interval '1 hour'")
        )
        db.session.execute(
            text(f"UPDATE posts SET updated_at = {earlier}, published_at = {earlier}")
        )
        db.session.execute(text(f"UPDATE content_version SET changed_at = {earlier}"))
        db.session.commit()


def copy_of(client, url: str):
    """The response a client keeps, and the If-Modified-Since it sends next time."""
    response = client.get(url, headers=BROWSER)
    assert response.status_code == 200, url
    return response, {"If-Modified-Since": response.headers["Last-Modified"], **BROWSER}


def test_a_post_leaving_the_feed_and_the_front_page_moves_last_modified(app, client, author):
    published_post(client, author, title="Older")
    newest = published_post(client, author, title="Newest")
    an_hour_ago(app)
    for url in ("/feed.atom", "/feed.rss", "/feed.json", "/"):
        kept, since = copy_of(client, url)
        assert client.get(url, headers=since).status_code == 304
    assert (
        client.post(f"{API}/posts/{newest['id']}/unpublish", headers=author.headers).status_code
        == 200
    )
    for url in ("/feed.atom", "/feed.rss", "/feed.json", "/"):
        # The newest post left; what remains is older than the client's copy, yet it changed.
        assert (
            client.get(
                url, headers={"If-Modified-Since": kept.headers["Last-Modified"]}
            ).status_code
            == 200
        )


def test_an_authors_new_name_and_bio_show_at_once_and_move_last_modified(app, client, author):
    post = published_post(client, author, title="Signed")
    an_hour_ago(app)
    _page, since = copy_of(client, f"/posts/{post['slug']}")
    _profile, profile_since = copy_of(client, f"/authors/{author.username}")
    change = {"display_name": "Grace H.", "bio": "Writes compilers."}
    assert client.patch(f"{API}/auth/me", json=change, headers=author.headers).status_code == 200
    fresh = client.get(f"/posts/{post['slug']}", headers=since)
    assert fresh.status_code == 200 and "Grace H." in fresh.get_data(as_text=True)
    fresh_profile = client.get(f"/authors/{author.username}", headers=profile_since)
    assert fresh_profile.status_code == 200 and "Writes compilers." in fresh_profile.get_data(
        as_text=True
    )
    assert client.get(f"/feed.atom?author={author.username}").status_code == 200


def test_a_bio_alone_refreshes_the_cached_author_page(client, author):
    published_post(client, author, title="Signed")
    before = client.get(f"/authors/{author.username}", headers=BROWSER)
    assert client.get(f"/authors/{author.username}", headers=BROWSER).data == before.data  # cached
    assert (
        client.patch(f"{API}/auth/me", json={"bio": "New bio."}, headers=author.headers).status_code
        == 200
    )
    after = client.get(f"/authors/{author.username}", headers=BROWSER)
    assert "New bio." in after.get_data(as_text=True)
