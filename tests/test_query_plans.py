"""Guards without timing: list pages are served by indexes, and authenticated reads cost one query.

The plans are asked of the database the suite runs on (SQLite, then PostgreSQL), for the exact
statements the API sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from blogapi.extensions import db
from tests.posts_helpers import API, counted_queries, published_post

LIST_QUERIES = [
    {"per_page": 5},
    {"per_page": 5, "sort": "-created_at"},
    {"per_page": 5, "sort": "title"},
    {"per_page": 5, "sort": "published_at"},
]


@contextmanager
def captured(app: Any) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements (with their parameters) that the app sends to the database."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def raw_plan(plan: str) -> Any:
    """PostgreSQL's JSON plan as Python objects."""
    return json.loads(plan)


def nodes_on_posts(plan: Any, under_posts: bool = False) -> list[str]:
    """Seq Scan nodes reading posts, and Sort nodes above a read of posts."""
    found: list[str] = []
    if isinstance(plan, list):
        for item in plan:
            found += nodes_on_posts(item)
        return found
    if not isinstance(plan, dict):
        return found
    node = plan.get("Plan", plan)
    children = node.get("Plans", [])
    reads_posts = node.get("Relation Name") == "posts" or any(
        c.get("Relation Name") == "posts" for c in children
    )
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == "posts":
        found.append("Seq Scan")
    if node.get("Node Type") == "Sort" and reads_posts:
        found.append("Sort")
    for child in children:
        found += nodes_on_posts(child)
    return found


def plan_problems(app: Any, statement: str, parameters: Any, *, sorted_by_index: bool) -> list[str]:
    """Ways the plan reads every post: a table scan of posts, or (where the page order should
    come straight from an index) a sort."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            connection.execute(text("SET LOCAL enable_sort = off"))
            raw = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = json.dumps(raw.scalar())
            db.session.rollback()
            nodes = nodes_on_posts(raw_plan(plan))
            return [f"{n} on posts" for n in nodes if n == "Seq Scan" or sorted_by_index]
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        db.session.rollback()
        details = [row[-1] for row in rows]
        problems = [d for d in details if d.startswith("SCAN posts") and "INDEX" not in d]
        if sorted_by_index:
            problems += [d for d in details if "TEMP B-TREE" in d]
        return problems


@pytest.fixture
def blog(client, make_account):
    """A few authors with published posts and tags."""
    authors = [make_account("author") for _ in range(3)]
    for n in range(12):
        published_post(client, authors[n % 3], title=f"Post {n}", tags=["python", f"t{n % 4}"])
    return authors


@pytest.mark.parametrize("query", LIST_QUERIES, ids=lambda q: q.get("sort", "-published_at"))
def test_list_pages_are_read_through_indexes(app, client, blog, query):
    cursor = client.get(f"{API}/posts", query_string=query).get_json()["meta"]["next_cursor"]
    # Unfiltered pages (and their cursors) take their order from an index; a filter may instead
    # read its own posts through an index (an author's, a tag's) and sort only those.
    variants = [
        ({**query, "page": 2}, True),
        ({**query, "cursor": cursor}, True),
        ({**query, "author": blog[0].username}, False),
        ({**query, "tag": "python"}, False),
    ]
    for params, sorted_by_index in variants:
        with captured(app) as statements:
            assert client.get(f"{API}/posts", query_string=params).status_code == 200
        pages = [(s, p) for s, p in statements if "FROM posts" in s and "LIMIT" in s]
        assert pages, statements
        for statement, parameters in pages:
            problems = plan_problems(app, statement, parameters, sorted_by_index=sorted_by_index)
            assert problems == [], (params, statement)


def test_reading_my_account_is_one_query(app, client, blog):
    author = blog[0]
    for _ in range(2):  # the first request verifies the token, the second reuses that
        with counted_queries(app) as statements:
            assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 200
        assert len(statements) == 1, statements
