"""Keyset paging: every post exactly once, in order, at any depth, while new posts arrive."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import event

from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.posts import API, new_post, publish, published_post
from tests.support.problems import assert_problem

TITLES = ["alpha", "bravo", "charlie"]


def seed(client, account, count: int = 14, drafts: int = 0) -> list[dict]:
    """Published posts in groups sharing one published_at and one title (so ties abound),
    plus some drafts; returns them as the API shows them to their author."""
    base = utcnow() - timedelta(days=30)
    posts = []
    for i in range(count):
        post = new_post(client, account, title=TITLES[i % 3])
        at = base + timedelta(hours=i // 3)
        posts.append(publish(client, account, post["id"], at).get_json())
    posts += [new_post(client, account, title=TITLES[i % 3]) for i in range(drafts)]
    return posts


def expected_order(posts: list[dict], sort: str) -> list[int]:
    """The order the contract promises, computed here independently of SQL."""
    field = sort.lstrip("-")

    def key(post: dict) -> tuple:
        value = post[field]
        if field == "title":
            return (value, post["id"])
        if value is None:  # drafts (no published_at) count as newer than any time
            return (True, datetime.min.replace(tzinfo=UTC), post["id"])
        return (False, datetime.fromisoformat(value), post["id"])

    return [post["id"] for post in sorted(posts, key=key, reverse=sort.startswith("-"))]


def walk(client, headers, between: Callable[[], None] = lambda: None, **params) -> list[int]:
    """Follow next_cursor from the first page to the last, calling `between` after each page."""
    seen: list[int] = []
    query = dict(params)
    while True:
        response = client.get(f"{API}/posts", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        seen += [item["id"] for item in response.get_json()["items"]]
        cursor = response.get_json()["meta"]["next_cursor"]
        if cursor is None:
            return seen
        query = dict(params, cursor=cursor)
        between()


SORTS = ["-published_at", "published_at", "-created_at", "created_at", "title", "-title"]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("status", ["published", "all"])
def test_walking_by_cursor_sees_every_post_once_in_order(client, author, sort, status):
    posts = seed(client, author, drafts=4 if status == "all" else 0)
    seen = walk(client, author.headers, per_page=4, sort=sort, status=status)
    assert seen == expected_order(posts, sort)


@pytest.mark.parametrize("sort", SORTS)
def test_no_repeat_or_gap_while_new_posts_and_drafts_arrive(client, author, sort):
    posts = seed(client, author, drafts=3)
    original = expected_order(posts, sort)
    arrivals: list[int] = []

    def someone_writes() -> None:
        arrivals.append(published_post(client, author, title="bravo")["id"])
        arrivals.append(new_post(client, author, title="alpha")["id"])

    seen = walk(client, author.headers, someone_writes, per_page=3, sort=sort, status="all")

    assert len(seen) == len(set(seen)), "a post was repeated"
    assert [post_id for post_id in seen if post_id in original] == original
    assert set(seen) - set(original) <= set(arrivals)


def test_posts_published_with_the_same_time_are_ordered_by_id(client, author):
    at = utcnow() - timedelta(days=1)
    made = [new_post(client, author, title="same")["id"] for _ in range(5)]
    for post_id in made:
        publish(client, author, post_id, at)
    assert walk(client, {}, per_page=2) == sorted(made, reverse=True)
    assert walk(client, {}, per_page=2, sort="published_at") == sorted(made)


def test_a_cursor_page_seeks_instead_of_skipping(app, client, author):
    seed(client, author, count=6)
    first = client.get(f"{API}/posts", query_string={"per_page": 2, "page": 2})
    cursor = first.get_json()["meta"]["next_cursor"]
    executed: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, *_args) -> None:
        executed.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(f"{API}/posts", query_string={"per_page": 2, "cursor": cursor})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    sql, parameters = next((s, p) for s, p in executed if "LIMIT" in s and "FROM posts" in s)
    assert "(posts.published_at, posts.id) <" in sql  # a seek on the index, at any depth
    if "OFFSET" in sql:  # SQLite's compiler always writes one; it must skip nothing
        values = parameters.values() if isinstance(parameters, dict) else parameters
        assert list(values)[-1] == 0


def cursor_of(payload: object) -> str:
    """A hand-made cursor, encoded the way the server encodes its own."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


def test_a_cursor_from_another_sort_is_422(client, author):
    seed(client, author, count=4)
    first = client.get(f"{API}/posts", query_string={"per_page": 2, "sort": "title"})
    cursor = first.get_json()["meta"]["next_cursor"]
    response = client.get(f"{API}/posts", query_string={"cursor": cursor, "sort": "-title"})
    assert "another sort" in assert_problem(response, 422)["errors"]["cursor"][0]


@pytest.mark.parametrize(
    "sort, payload",
    [
        ("-published_at", {"s": "-published_at", "k": None}),
        ("-published_at", {"s": "-published_at", "k": None, "i": 1, "x": 2}),
        ("-published_at", {"s": "-published_at", "k": None, "i": 0}),
        ("-published_at", {"s": "-published_at", "k": None, "i": -4}),
        ("-published_at", {"s": "-published_at", "k": None, "i": "7"}),
        ("-published_at", {"s": "-published_at", "k": None, "i": True}),
        ("-published_at", {"s": "-published_at", "k": None, "i": 2**40}),
        ("-published_at", {"s": "-published_at", "k": "yesterday", "i": 1}),
        ("-published_at", {"s": "-published_at", "k": "2026-01-01T00:00:00", "i": 1}),
        ("-published_at", {"s": "-published_at", "k": "0001-01-01T00:00:00+05:00", "i": 1}),
        ("-published_at", {"s": "-published_at", "k": 12, "i": 1}),
        ("-created_at", {"s": "-created_at", "k": None, "i": 1}),
        ("title", {"s": "title", "k": 5, "i": 1}),
        ("title", {"s": "title", "k": "nul\x00", "i": 1}),
        ("title", ["title", "a", 1]),
    ],
)
def test_forged_or_broken_cursors_are_422(client, sort, payload):
    response = client.get(f"{API}/posts", query_string={"cursor": cursor_of(payload), "sort": sort})
    assert "cursor" in assert_problem(response, 422)["errors"]


def test_a_well_formed_cursor_is_accepted_even_if_no_post_matches_it(client, author):
    seed(client, author, count=3)
    far_future = cursor_of({"s": "published_at", "k": "2999-01-01T00:00:00Z", "i": 1})
    response = client.get(
        f"{API}/posts", query_string={"cursor": far_future, "sort": "published_at"}
    )
    assert response.status_code == 200
    assert response.get_json()["items"] == []
    assert response.get_json()["meta"]["total"] == 3


def test_cursor_times_keep_microseconds(client, author):
    at = datetime.fromisoformat("2024-02-03T04:05:06.123456+00:00")
    made = [new_post(client, author)["id"] for _ in range(3)]
    for offset, post_id in enumerate(made):
        publish(client, author, post_id, at + timedelta(microseconds=offset))
    assert walk(client, {}, per_page=1) == made[::-1]
    assert walk(client, {}, per_page=1, sort="published_at") == made
