"""Stories about writing, reading, editing and deleting posts (the Posts table, row by row)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from tests.support.posts import API, new_post, published_post, write_post
from tests.support.problems import assert_problem

parse = datetime.fromisoformat
ISO_Z = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


def test_an_author_drafts_a_post_and_gets_it_back_with_location_and_etag(client, author):
    response = write_post(
        client,
        author,
        title="  Hello, World  ",
        body="# Hi\n\nSome *Markdown*.",
        summary=" A greeting ",
        tags=["Python", "web dev"],
    )

    assert response.status_code == 201
    post = response.get_json()
    assert list(post) == [
        "id", "slug", "title", "summary", "body", "body_html", "status", "tags",
        "author", "feature_image", "created_at", "updated_at", "published_at",
    ]  # fmt: skip
    assert response.headers["Location"] == f"{API}/posts/{post['id']}"
    assert response.headers["ETag"].startswith('"')
    assert post["slug"] == "hello-world"
    assert post["title"] == "Hello, World"
    assert post["summary"] == "A greeting"
    assert post["body"] == "# Hi\n\nSome *Markdown*."
    assert post["body_html"] == "<h1>Hi</h1>\n<p>Some <em>Markdown</em>.</p>\n"
    assert post["status"] == "draft"
    assert post["published_at"] is None
    assert post["tags"] == ["python", "web-dev"]
    assert post["author"] == {"username": author.username, "display_name": author.username}
    assert post["created_at"] == post["updated_at"]
    assert re.match(ISO_Z, post["created_at"])
    assert client.get(response.headers["Location"], headers=author.headers).get_json() == post


def test_summary_and_tags_are_optional(client, author):
    post = new_post(client, author, title="Bare", body="text")
    assert post["summary"] == ""
    assert post["tags"] == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("id", 7),
        ("author", "someone"),
        ("author_id", 1),
        ("status", "published"),
        ("published_at", "2026-01-01T00:00:00Z"),
        ("created_at", "2026-01-01T00:00:00Z"),
        ("updated_at", "2026-01-01T00:00:00Z"),
        ("body_html", "<b>mine</b>"),
        ("version", 9),
    ],
)
def test_a_client_can_never_set_server_fields(client, author, field, value):
    body = assert_problem(write_post(client, author, **{field: value}), 422)
    assert field in body["errors"]


@pytest.mark.parametrize(
    "fields, bad",
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"title": None}, "title"),
        ({"title": 5}, "title"),
        ({"body": ""}, "body"),
        ({"body": "  \n "}, "body"),
        ({"body": "x" * 200_001}, "body"),
        ({"body": "nul \x00 byte"}, "body"),
        ({"body": ["a"]}, "body"),
        ({"summary": "x" * 501}, "summary"),
        ({"summary": None}, "summary"),
        ({"tags": "python"}, "tags"),
        ({"tags": [f"tag{i}" for i in range(11)]}, "tags"),
        ({"tags": [""]}, "tags.0"),
        ({"tags": ["ok", "x" * 41]}, "tags.1"),
        ({"tags": ["!!!"]}, "tags.0"),
        ({"tags": [3]}, "tags.0"),
        ({"tags": None}, "tags"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"slug": "2026"}, "slug"),
        ({"slug": "x" * 81}, "slug"),
        ({"slug": ""}, "slug"),
    ],
)
def test_invalid_posts_are_422_naming_the_field(client, author, fields, bad):
    body = assert_problem(write_post(client, author, **fields), 422)
    assert bad in body["errors"], body


def test_missing_title_and_body_are_both_reported(client, author):
    response = client.post(f"{API}/posts", json={}, headers=author.headers)
    assert set(assert_problem(response, 422)["errors"]) == {"title", "body"}


def test_the_limits_themselves_are_accepted(client, author):
    post = new_post(
        client,
        author,
        title="t" * 200,
        body="b" * 200_000,
        summary="s" * 500,
        tags=[f"{i}" + "x" * 39 for i in range(10)],
    )
    assert len(post["title"]) == 200 and len(post["tags"]) == 10


def test_tags_are_trimmed_case_folded_and_merged(client, author):
    tags = [" Python ", "python", "PYTHON", "Crème Brûlée", "creme brulee"] + ["x"] * 20
    post = new_post(client, author, tags=tags)
    assert post["tags"] == ["creme-brulee", "python", "x"]


@pytest.mark.parametrize(
    "headers, data, status",
    [
        ({"Content-Type": "text/plain"}, b'{"title": "t", "body": "b"}', 415),
        ({"Content-Type": "application/json"}, b'{"title": ', 400),
        ({"Content-Type": "application/json"}, b'["a list"]', 400),
        ({"Content-Type": "application/json"}, b"", 400),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(client, author, headers, data, status):
    response = client.post(f"{API}/posts", data=data, headers=author.headers | headers)
    assert_problem(response, status)


def test_a_body_over_the_limit_is_413(client, author, app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = write_post(client, author, body="x" * 2000)
    assert_problem(response, 413)


def test_a_post_is_read_by_id_or_by_slug(client, author):
    post = published_post(client, author, title="Read Me")
    by_id = client.get(f"{API}/posts/{post['id']}")
    by_slug = client.get(f"{API}/posts/read-me")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.get_json() == by_slug.get_json() == post
    assert by_id.headers["ETag"] == by_slug.headers["ETag"]


@pytest.mark.parametrize(
    "ident", ["999", "no-such-post", "0", "99999999999999999999999", "Not%20a%20slug", "%C2%B3"]
)
def test_an_unknown_post_is_404_problem(client, ident):
    assert_problem(client.get(f"{API}/posts/{ident}"), 404)


def test_patch_changes_only_what_is_sent_and_keeps_the_slug(client, author):
    post = new_post(client, author, title="First title", summary="s", tags=["a"])
    etag = client.get(f"{API}/posts/{post['id']}", headers=author.headers).headers["ETag"]

    response = client.patch(
        f"{API}/posts/{post['id']}", json={"title": "Second title"}, headers=author.headers
    )

    assert response.status_code == 200
    edited = response.get_json()
    assert edited["title"] == "Second title"
    assert edited["slug"] == "first-title"
    assert (edited["summary"], edited["tags"], edited["body"]) == ("s", ["a"], post["body"])
    assert parse(edited["updated_at"]) > parse(post["updated_at"])
    assert edited["created_at"] == post["created_at"]
    assert response.headers["ETag"] != etag
    assert client.get(f"{API}/posts/{post['id']}", headers=author.headers).get_json() == edited


def test_patch_rerenders_the_body_and_replaces_tags(client, author):
    post = new_post(client, author, body="old", tags=["a", "b"])
    response = client.patch(
        f"{API}/posts/{post['slug']}",
        json={"body": "**new**", "tags": ["C", "b"]},
        headers=author.headers,
    )
    assert response.get_json()["body_html"] == "<p><strong>new</strong></p>\n"
    assert response.get_json()["tags"] == ["b", "c"]


def test_patch_with_a_new_slug_moves_the_post(client, author):
    post = new_post(client, author, title="Old")
    response = client.patch(f"{API}/posts/old", json={"slug": "brand-new"}, headers=author.headers)
    assert response.get_json()["slug"] == "brand-new"
    assert client.get(f"{API}/posts/brand-new", headers=author.headers).status_code == 200
    assert_problem(client.get(f"{API}/posts/old", headers=author.headers), 404)
    assert response.get_json()["id"] == post["id"]


def test_patch_to_a_taken_slug_is_409(client, author):
    new_post(client, author, title="Taken")
    post = new_post(client, author, title="Mine")
    response = client.patch(
        f"{API}/posts/{post['id']}", json={"slug": "taken"}, headers=author.headers
    )
    assert assert_problem(response, 409)["errors"] == {"slug": ["This slug is already taken."]}
    assert client.get(f"{API}/posts/{post['id']}", headers=author.headers).get_json() == post


def test_an_empty_patch_changes_nothing(client, author):
    post = new_post(client, author)
    response = client.patch(f"{API}/posts/{post['id']}", json={}, headers=author.headers)
    assert response.status_code == 200
    assert response.get_json() == post


@pytest.mark.parametrize(
    "fields, bad",
    [
        ({"title": ""}, "title"),
        ({"body": None}, "body"),
        ({"status": "published"}, "status"),
        ({"author": "x"}, "author"),
        ({"published_at": None}, "published_at"),
        ({"id": 3}, "id"),
        ({"slug": "Bad Slug"}, "slug"),
    ],
)
def test_invalid_patches_are_422(client, author, fields, bad):
    post = new_post(client, author)
    response = client.patch(f"{API}/posts/{post['id']}", json=fields, headers=author.headers)
    assert bad in assert_problem(response, 422)["errors"]


def test_delete_answers_204_without_a_body_and_the_post_is_gone(client, author):
    post = published_post(client, author, tags=["gone"])
    response = client.delete(f"{API}/posts/{post['id']}", headers=author.headers)
    assert response.status_code == 204
    assert response.data == b""
    assert_problem(client.get(f"{API}/posts/{post['id']}", headers=author.headers), 404)
    assert_problem(client.delete(f"{API}/posts/{post['id']}", headers=author.headers), 404)
    assert client.get(f"{API}/tags").get_json() == []


def test_delete_by_slug(client, author):
    post = new_post(client, author, title="Bye")
    assert client.delete(f"{API}/posts/bye", headers=author.headers).status_code == 204
    assert_problem(client.get(f"{API}/posts/{post['id']}", headers=author.headers), 404)


def test_methods_a_route_lacks_are_405_problems(client, author):
    assert_problem(client.put(f"{API}/posts/1", json={}, headers=author.headers), 405)
    assert_problem(client.delete(f"{API}/posts", headers=author.headers), 405)
    assert_problem(client.get(f"{API}/posts/1/publish", headers=author.headers), 405)
