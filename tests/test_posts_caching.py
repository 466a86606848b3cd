"""Stories about HTTP caching and concurrency: strong ETags, 304s, and 412 for stale writes."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

import blogapi.posts.resources as post_resources
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.accounts import sign_up
from tests.support.apps import file_database_app
from tests.support.posts import API, new_post, publish, published_post
from tests.support.problems import assert_problem


def test_the_etag_is_strong_and_made_from_the_exact_bytes(client, author):
    post = published_post(client, author)
    response = client.get(f"{API}/posts/{post['id']}")
    etag = response.headers["ETag"]
    assert not etag.startswith("W/")
    assert etag == '"' + hashlib.sha256(response.data).hexdigest()[:32] + '"'
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert response.headers["Vary"] == "Authorization"


def test_non_public_reads_are_private(client, author):
    post = new_post(client, author)
    response = client.get(f"{API}/posts/{post['id']}", headers=author.headers)
    assert response.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"other", {etag}', "*", '"x",W/{etag}'],
)
def test_a_matching_if_none_match_is_304_without_a_body(client, author, if_none_match):
    post = published_post(client, author)
    etag = client.get(f"{API}/posts/{post['id']}").headers["ETag"]

    response = client.get(
        f"{API}/posts/{post['id']}", headers={"If-None-Match": if_none_match.format(etag=etag)}
    )

    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "public, no-cache"


def test_a_stale_if_none_match_gets_the_new_representation(client, author):
    post = published_post(client, author)
    etag = client.get(f"{API}/posts/{post['id']}").headers["ETag"]
    client.patch(f"{API}/posts/{post['id']}", json={"title": "New"}, headers=author.headers)
    response = client.get(f"{API}/posts/{post['id']}", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_if_none_match_never_reveals_a_hidden_post(client, author):
    post = new_post(client, author)
    response = client.get(f"{API}/posts/{post['id']}", headers={"If-None-Match": "*"})
    assert_problem(response, 404)


def test_the_etag_changes_when_the_author_renames_themselves(app, client, author):
    post = published_post(client, author)
    etag = client.get(f"{API}/posts/{post['id']}").headers["ETag"]
    with app.app_context():
        db.session.execute(text("UPDATE users SET display_name = 'Someone Else'"))
        db.session.commit()
    response = client.get(f"{API}/posts/{post['id']}", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["author"]["display_name"] == "Someone Else"


def test_the_etag_changes_when_a_scheduled_post_goes_live(app, client, author):
    post = new_post(client, author)
    publish(client, author, post["id"], utcnow() + timedelta(days=1))
    etag = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    with app.app_context():  # time passes: move the schedule into the past
        db.session.execute(text("UPDATE posts SET published_at = '2020-01-01 00:00:00.000000'"))
        db.session.commit()
    response = client.get(f"{API}/posts/{post['id']}", headers=author.headers)
    assert response.get_json()["status"] == "published"
    assert response.headers["ETag"] != etag


WRITES = [
    ("PATCH", "", {"title": "Mine now"}),
    ("DELETE", "", None),
    ("POST", "/publish", None),
    ("POST", "/unpublish", None),
]


@pytest.mark.parametrize("method, suffix, body", WRITES)
def test_a_stale_if_match_is_412_and_changes_nothing(client, author, method, suffix, body):
    post = new_post(client, author)
    stale = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    client.patch(f"{API}/posts/{post['id']}", json={"summary": "moved on"}, headers=author.headers)
    current = client.get(f"{API}/posts/{post['id']}", headers=author.headers)

    response = client.open(
        f"{API}/posts/{post['id']}{suffix}",
        method=method,
        json=body,
        headers=author.headers | {"If-Match": stale},
    )

    assert_problem(response, 412)
    assert response.headers["ETag"] == current.headers["ETag"]
    after = client.get(f"{API}/posts/{post['id']}", headers=author.headers)
    assert after.get_json() == current.get_json()


@pytest.mark.parametrize("method, suffix, body", WRITES)
@pytest.mark.parametrize("if_match", ["{etag}", "*", '"nope", {etag}'])
def test_a_current_if_match_lets_the_write_through(client, author, method, suffix, body, if_match):
    post = new_post(client, author)
    etag = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    response = client.open(
        f"{API}/posts/{post['id']}{suffix}",
        method=method,
        json=body,
        headers=author.headers | {"If-Match": if_match.format(etag=etag)},
    )
    assert response.status_code in (200, 204), response.get_json()


def test_a_weak_tag_never_satisfies_if_match(client, author):
    post = new_post(client, author)
    etag = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    response = client.patch(
        f"{API}/posts/{post['id']}",
        json={"title": "x"},
        headers=author.headers | {"If-Match": f"W/{etag}"},
    )
    assert_problem(response, 412)


def test_each_write_answers_with_the_etag_of_what_it_returns(client, author):
    post = new_post(client, author)
    writes = [
        lambda: client.patch(
            f"{API}/posts/{post['id']}", json={"title": "B"}, headers=author.headers
        ),
        lambda: publish(client, author, post["id"]),
        lambda: client.post(f"{API}/posts/{post['id']}/unpublish", headers=author.headers),
    ]
    for write in writes:
        response = write()
        fresh = client.get(f"{API}/posts/{post['id']}", headers=author.headers)
        assert response.headers["ETag"] == fresh.headers["ETag"]
        assert response.data == fresh.data


@pytest.mark.parametrize("with_if_match, status", [(True, 412), (False, 409)])
def test_a_write_overtaken_between_read_and_update_loses(
    monkeypatch, client, author, with_if_match, status
):
    """Another request bumps the row's version after this one checked If-Match."""
    post = new_post(client, author)
    etag = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]
    checked = post_resources.check_post_if_match

    def check_then_lose_the_race(loaded):
        checked(loaded)
        db.session.execute(
            text("UPDATE posts SET version = version + 1, title = 'theirs' WHERE id = :id"),
            {"id": loaded.id},
        )

    monkeypatch.setattr(post_resources, "check_post_if_match", check_then_lose_the_race)
    headers = author.headers | ({"If-Match": etag} if with_if_match else {})
    response = client.patch(f"{API}/posts/{post['id']}", json={"title": "mine"}, headers=headers)
    assert_problem(response, status)


def test_two_concurrent_patches_with_one_if_match_have_exactly_one_winner(monkeypatch, tmp_path):
    app = file_database_app(tmp_path)
    client = app.test_client()
    writer = sign_up(client, app, "writer", "author")
    post = new_post(client, writer)
    etag = client.get(f"{API}/posts/{post['id']}", headers=writer.headers).headers["ETag"]
    both_checked = threading.Barrier(2, timeout=10)
    checked = post_resources.check_post_if_match

    def check_and_wait(loaded):
        checked(loaded)
        both_checked.wait()  # both requests have read the post and passed If-Match

    monkeypatch.setattr(post_resources, "check_post_if_match", check_and_wait)
    results: dict[str, int] = {}

    def edit(title: str) -> None:
        response = app.test_client().patch(
            f"{API}/posts/{post['id']}",
            json={"title": title},
            headers=writer.headers | {"If-Match": etag},
        )
        results[title] = response.status_code

    threads = [threading.Thread(target=edit, args=(title,)) for title in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(results.values()) == [200, 412], results
    winner = next(title for title, status in results.items() if status == 200)
    shown = client.get(f"{API}/posts/{post['id']}", headers=writer.headers).get_json()
    assert shown["title"] == winner
    with app.app_context():
        db.engine.dispose()
