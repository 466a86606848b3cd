"""With TESTING off, as in production: post errors are still problem+json, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

import blogapi.posts.resources as post_resources
from blogapi.extensions import db
from tests.support.accounts import sign_up
from tests.support.apps import make_app
from tests.support.posts import API, new_post
from tests.support.problems import assert_problem


@pytest.fixture
def production_app() -> Iterator[Flask]:
    """An app that handles errors as production does."""
    app = make_app(testing=False)
    assert not app.testing
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("GET", "/posts?page=0", {}, 422),
        ("GET", "/posts?sort=sideways", {}, 422),
        ("GET", "/posts?cursor=%%%", {}, 422),
        ("GET", "/posts?tag=%00", {}, 422),
        ("GET", "/posts/12345", {}, 404),
        ("GET", "/posts/no%00such", {}, 404),
        ("GET", "/posts/99999999999999999999", {}, 404),
        ("POST", "/posts", {"json": {"title": "t", "body": "b"}}, 401),
        ("PATCH", "/posts/1", {"json": {}}, 401),
        ("DELETE", "/posts/1", {}, 401),
        ("POST", "/posts/1/publish", {}, 401),
        ("POST", "/posts/1/unpublish", {}, 401),
        ("PUT", "/posts", {}, 405),
        ("GET", "/tags/x", {}, 404),
    ],
)
def test_anonymous_errors_are_problems(production_app, method, path, kwargs, status):
    client = production_app.test_client()
    assert_problem(client.open(f"{API}{path}", method=method, **kwargs), status)


def test_signed_in_errors_are_problems(production_app):
    client = production_app.test_client()
    writer = sign_up(client, production_app, "prodwriter", "author")
    reader = sign_up(client, production_app, "prodreader", "contributor")
    post = new_post(client, writer, title="Prod")
    url = f"{API}/posts/{post['id']}"
    mine, theirs = writer.headers, reader.headers
    as_json = mine | {"Content-Type": "application/json"}
    too_early = {"publish_at": "0001-01-01T00:00:00+05:00"}

    assert_problem(client.post(f"{API}/posts", json={"id": 1}, headers=mine), 422)
    assert_problem(client.post(f"{API}/posts", data="x", headers=mine), 415)
    assert_problem(client.post(f"{API}/posts", data="{", headers=as_json), 400)
    taken = {"title": "x", "body": "y", "slug": "prod"}
    assert_problem(client.post(f"{API}/posts", json=taken, headers=mine), 409)
    assert_problem(client.patch(url, json={"title": "x"}, headers=theirs), 404)
    stale = mine | {"If-Match": '"stale"'}
    assert_problem(client.patch(url, json={"title": "x"}, headers=stale), 412)
    assert_problem(client.post(f"{url}/publish", json=too_early, headers=mine), 422)
    assert client.post(f"{url}/publish", headers=mine).status_code == 200
    assert_problem(client.patch(url, json={"title": "x"}, headers=theirs), 403)
    assert_problem(client.get(url, headers={"Authorization": "Bearer broken"}), 401)


def test_a_lost_race_is_412_in_production_too(monkeypatch, production_app):
    client = production_app.test_client()
    writer = sign_up(client, production_app, "racer", "author")
    post = new_post(client, writer)
    etag = client.get(f"{API}/posts/{post['id']}", headers=writer.headers).headers["ETag"]
    checked = post_resources.check_post_if_match

    def check_then_lose(loaded):
        checked(loaded)
        db.session.execute(text("UPDATE posts SET version = version + 1"))

    monkeypatch.setattr(post_resources, "check_post_if_match", check_then_lose)
    response = client.delete(
        f"{API}/posts/{post['id']}", headers=writer.headers | {"If-Match": etag}
    )
    assert_problem(response, 412)
