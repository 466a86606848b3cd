"""Public reads come from a per-process cache, yet a write is visible to the very next read,
whichever process or host serves it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests
from flask import Response
from sqlalchemy import text

from blogapi.extensions import db
from blogapi.timeutil import utcnow
from blogapi.web import public_cache
from blogapi.web.public_cache import VersionedCache
from devtools.live import OPEN_REGISTRATION, LiveServer, fresh_database_url, migrate, production_env
from tests.support.posts import API, new_post, publish, published_post


def test_anonymous_reads_are_cached_and_revalidated(client, author):
    post = published_post(client, author, title="Cached")
    first = client.get(f"{API}/posts/{post['id']}")
    second = client.get(f"{API}/posts/{post['id']}")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    assert second.headers["Cache-Control"] == "public, no-cache"
    listing = client.get(f"{API}/posts")
    assert listing.headers["Cache-Control"] == "public, no-cache" and listing.headers["ETag"]
    again = client.get(f"{API}/posts", headers={"If-None-Match": listing.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_every_kind_of_write_shows_in_the_next_anonymous_read(client, author):
    post = published_post(client, author, title="Before", tags=["one"])
    url = f"{API}/posts/{post['id']}"
    for _ in range(2):
        client.get(url), client.get(f"{API}/posts"), client.get(f"{API}/tags")
    client.patch(url, json={"title": "After", "tags": ["two"]}, headers=author.headers)
    assert client.get(url).get_json()["title"] == "After"
    assert client.get(f"{API}/posts").get_json()["items"][0]["title"] == "After"
    assert [t["slug"] for t in client.get(f"{API}/tags").get_json()] == ["two"]
    client.patch(f"{API}/auth/me", json={"display_name": "Renamed"}, headers=author.headers)
    assert client.get(url).get_json()["author"]["display_name"] == "Renamed"
    client.post(f"{url}/unpublish", headers=author.headers)
    assert client.get(url).status_code == 404
    assert client.get(f"{API}/posts").get_json()["meta"]["total"] == 0


def test_a_write_elsewhere_is_seen_by_this_process_at_once(app, client, author):
    post = published_post(client, author, title="Seen everywhere")
    url = f"{API}/posts/{post['id']}"
    assert client.get(url).get_json()["title"] == "Seen everywhere"  # now cached here
    with app.app_context():  # another process, or an admin's SQL, changes the row
        db.session.execute(text("UPDATE posts SET title = 'Changed elsewhere'"))
        db.session.commit()
    assert client.get(url).get_json()["title"] == "Changed elsewhere"


def test_a_scheduled_post_appears_when_its_time_comes(client, author):
    post = new_post(client, author, title="Soon")
    publish(client, author, post["id"], utcnow() + timedelta(seconds=1.5))
    assert client.get(f"{API}/posts").get_json()["meta"]["total"] == 0  # cached, for now
    assert client.get(f"{API}/posts/{post['id']}").status_code == 404
    time.sleep(1.6)
    assert client.get(f"{API}/posts").get_json()["meta"]["total"] == 1
    assert client.get(f"{API}/posts/{post['id']}").status_code == 200


def test_signed_in_readers_are_never_served_from_the_cache(client, author):
    post = new_post(client, author, title="Draft")
    client.get(f"{API}/posts?status=all")
    mine = client.get(f"{API}/posts?status=all", headers=author.headers).get_json()
    assert [p["id"] for p in mine["items"]] == [post["id"]]
    assert client.get(f"{API}/posts?status=all").get_json()["items"] == []


def test_two_gunicorn_workers_see_each_others_writes_at_once(tmp_path):
    env = production_env(
        fresh_database_url(tmp_path), RATELIMIT_ENABLED="false", **OPEN_REGISTRATION
    )
    migrate(env)
    password = "cache coherence passphrase"
    with LiveServer(env, workers=2, log_path=tmp_path / "gunicorn.log") as server:
        api = server.api
        requests.post(
            f"{api}/auth/register",
            timeout=10,
            json={"username": "ada", "email": "ada@example.com", "password": password},
        )
        token = requests.post(
            f"{api}/auth/login", timeout=10, json={"username": "ada", "password": password}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        post = requests.post(
            f"{api}/posts", json={"title": "v0", "body": "b"}, headers=auth, timeout=10
        ).json()
        requests.post(f"{api}/posts/{post['id']}/publish", headers=auth, timeout=10)
        session = requests.Session()  # new connections: requests land on either worker
        for version in range(1, 6):
            for _ in range(6):  # warm both workers' caches with the current title
                session.get(f"{api}/posts/{post['id']}", timeout=10)
            requests.patch(
                f"{api}/posts/{post['id']}", json={"title": f"v{version}"}, headers=auth, timeout=10
            ).raise_for_status()
            for _ in range(6):
                assert session.get(f"{api}/posts/{post['id']}", timeout=10).json()["title"] == (
                    f"v{version}"
                )
                listed = session.get(f"{api}/posts", timeout=10).json()["items"][0]["title"]
                assert listed == f"v{version}"


def test_list_totals_are_counted_once_yet_follow_every_write(client, author):
    def my_drafts() -> int:
        response = client.get(f"{API}/posts?status=draft", headers=author.headers)
        return response.get_json()["meta"]["total"]

    assert my_drafts() == 0
    first = new_post(client, author, title="One")
    assert my_drafts() == 1
    new_post(client, author, title="Two")
    assert my_drafts() == 2
    publish(client, author, first["id"])
    assert my_drafts() == 1
    assert client.get(f"{API}/posts").get_json()["meta"]["total"] == 1


def test_cached_bodies_stay_within_a_byte_budget_however_many_urls_are_asked(app, client, author):
    for n in range(3):
        published_post(client, author, title=f"Budget {n}", body="words " * 400)
    budget = 20_000
    cache = VersionedCache(max_bytes=budget)
    app.extensions[public_cache.EXTENSION_KEY] = cache
    first = client.get(f"{API}/posts")
    for n in range(40):  # a unique ignored parameter: a new URL each time
        page = client.get(f"{API}/posts?utm={n}")
        assert page.status_code == 200 and page.get_json() == first.get_json()
        assert 0 < cache.size <= budget
    assert len(cache.entries) < 40
    assert cache.size == sum(size for *_, size in cache.entries.values())


def test_the_cache_forgets_by_bytes_and_counts_a_replaced_entry_once():
    now = utcnow()
    cache = VersionedCache(max_entries=10, max_bytes=100)
    cache.put("a", 1, None, "A", size=60)
    cache.put("a", 1, None, "A again", size=50)
    assert cache.size == 50
    cache.put("b", 1, None, "B", size=40)
    cache.put("c", 1, None, "C", size=30)  # 120 bytes: "a", the least recently used, goes
    assert cache.get("a", 1, now) is None and cache.get("b", 1, now) == "B"
    assert cache.size == 70
    cache.put("huge", 1, None, "H", size=101)  # never fits: not kept, nothing evicted for it
    assert cache.get("huge", 1, now) is None and cache.size == 70
    assert cache.get("c", 2, now) is None and cache.size == 40  # stale: dropped, bytes freed


def test_any_kind_of_response_keeps_its_type_and_honours_if_modified_since(app, client):
    calls = []

    def feed() -> Response:
        calls.append(1)
        response = Response("<feed/>", mimetype="application/atom+xml")
        response.last_modified = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
        return response

    app.add_url_rule("/probe.atom", "probe", public_cache.public_cache(feed))
    first, second = client.get("/probe.atom"), client.get("/probe.atom")
    assert len(calls) == 1  # the second came from the cache
    for response in (first, second):
        assert response.status_code == 200 and response.data == b"<feed/>"
        assert response.mimetype == "application/atom+xml"
        assert response.headers["Last-Modified"] == "Sun, 01 Nov 2026 12:00:00 GMT"
    etag = first.headers["ETag"]
    current = {"If-Modified-Since": "Sun, 01 Nov 2026 12:00:00 GMT"}
    older = {"If-Modified-Since": "Sun, 01 Nov 2026 11:59:59 GMT"}
    assert client.get("/probe.atom", headers=current).status_code == 304
    assert client.get("/probe.atom", headers=older).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2), whichever way it goes.
    assert (
        client.get("/probe.atom", headers={**current, "If-None-Match": '"other"'}).status_code
        == 200
    )
    assert client.get("/probe.atom", headers={**older, "If-None-Match": etag}).status_code == 304
    assert client.get("/probe.atom", headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_a_client_with_a_current_copy_gets_304_on_a_cache_miss_too(app, client):
    app.add_url_rule(
        "/probe.txt",
        "probe",
        public_cache.public_cache(lambda: Response("same", mimetype="text/plain")),
    )
    etag = client.get("/probe.txt").headers["ETag"]
    app.extensions[public_cache.EXTENSION_KEY] = VersionedCache()  # as another worker would be
    again = client.get("/probe.txt", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""
