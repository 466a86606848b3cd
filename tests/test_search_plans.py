"""Guards without timing: a search is answered from the full-text index, never a scan of posts.

For the exact statements the API sends for a search (its page and its count; relevance and
date order; cursors; tag and author filters; exclusions and `or`), the plans are asked of the
suite's database: PostgreSQL must never scan the table, and must find a rare word through the
GIN index ix_posts_search; SQLite must start from its FTS5 table posts_fts and never scan posts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from blogapi.db.models import Post, User
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.accounts import sign_up
from tests.support.apps import dispose, make_app
from tests.support.databases import plan_nodes, sent_statements
from tests.support.posts import API, published_post
from tests.test_query_plans import rows_read_for

POSTS = 5000  # enough that reading every post is never the cheap way to find a few
RARE_WORD, RARE = "zeppelin", 5  # in a few posts
COMMON_WORD, COMMON = "weather", 10  # in one post in ten
GIN_INDEX = "ix_posts_search"
FTS_TABLE = "posts_fts"


@dataclass
class Blog:
    """The app on the suite's database, a client, and the usernames of its two authors."""

    app: Flask
    client: FlaskClient
    authors: list[str]


@pytest.fixture(scope="module")
def blog() -> Iterator[Blog]:
    """Two authors, a tagged post of each written through the API, and thousands more posts
    (half by each): every tenth holds a common word, a few a rare one."""
    app = make_app()
    client = app.test_client()
    authors = [sign_up(client, app, f"planner{n}") for n in range(2)]
    for n, author in enumerate(authors):
        published_post(
            client,
            author,
            title=f"Weather report {n}",
            body="A zeppelin over the hills, weather permitting.",
            tags=["python"],
        )
    start = utcnow() - timedelta(days=30)
    with app.app_context():
        author_ids = list(db.session.scalars(select(User.id).order_by(User.id)))

        def words(n: int) -> str:
            return (f" {COMMON_WORD}" if n % COMMON == 0 else "") + (
                f" {RARE_WORD}" if n < RARE else ""
            )

        db.session.add_all(
            Post(
                slug=f"bulk-{n}",
                title=f"Bulk {n}{words(n)}",
                summary="",
                body="Rain and sun.",
                body_html="<p>Rain and sun.</p>",
                body_text="Rain and sun.",
                author_id=author_ids[n % len(author_ids)],
                published_at=start + timedelta(seconds=n),
            )
            for n in range(POSTS)
        )
        db.session.commit()
        if db.session.connection().dialect.name == "postgresql":
            # Fresh statistics, as autovacuum may gather at any moment: the plan must not
            # depend on whether it has.
            db.session.execute(text("ANALYZE posts"))
            db.session.commit()
    yield Blog(app, client, [author.username for author in authors])
    dispose(app)


def searches(statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The statements of a request that read posts through the search: its page and count."""
    return [
        (statement, parameters)
        for statement, parameters in statements
        if statement.lstrip().upper().startswith("SELECT")
        and "FROM posts" in statement
        and (GIN_INDEX in statement or "search_vector" in statement or FTS_TABLE in statement)
    ]


def postgres_plan(statement: str, parameters: Any) -> Any:
    """PostgreSQL's plan for a statement, with table scans priced out as test_query_plans
    does: if the index can answer, the planner uses it."""
    connection = db.session.connection()
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    db.session.rollback()
    return plan


def sqlite_plan(statement: str, parameters: Any) -> list[str]:
    """SQLite's query plan lines for a statement."""
    connection = db.session.connection()
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    db.session.rollback()
    return [row[-1] for row in rows]


def plan_problems(app: Flask, statement: str, parameters: Any, *, gin: bool) -> list[str]:
    """What is wrong with the plan of one search statement: [] when the index answers it
    (on PostgreSQL, when `gin`, through ix_posts_search)."""
    with app.app_context():
        if db.session.connection().dialect.name == "postgresql":
            plan = postgres_plan(statement, parameters)
            problems = [
                f"Seq Scan on posts: {json.dumps(plan)}"
                for node in plan_nodes(plan)
                if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == "posts"
            ]
            if gin and not any(node.get("Index Name") == GIN_INDEX for node in plan_nodes(plan)):
                problems.append(f"{GIN_INDEX} unused: {json.dumps(plan)}")
            return problems
        details = sqlite_plan(statement, parameters)
        problems = [d for d in details if d.startswith("SCAN posts ") or d == "SCAN posts"]
        first = next((d for d in details if d.startswith(("SCAN", "SEARCH"))), "")
        if not first.startswith(f"SCAN {FTS_TABLE} VIRTUAL TABLE INDEX"):
            problems.append(f"not driven by {FTS_TABLE}: {details}")
        return problems


@dataclass(frozen=True)
class Request:
    """A search request: its parameters, whether to go on from page 1's cursor, whether its
    count is a new one (the first request of its filters; later ones reuse the total), and
    whether it looks for a rare word, which PostgreSQL must then find through ix_posts_search.
    (For a word in one post in ten, reading posts in date order, or all of them to count, can
    be cheaper, and PostgreSQL's statistics tell it so; a tag's few posts likewise.)"""

    params: dict[str, Any]
    cursor: bool = False
    counts: bool = True
    rare: bool = False


REQUESTS = [
    Request({"q": RARE_WORD}, rare=True),
    Request({"q": RARE_WORD, "sort": "-published_at"}, counts=False, rare=True),
    Request({"q": COMMON_WORD}),
    Request({"q": COMMON_WORD, "page": 2}, counts=False),
    Request({"q": COMMON_WORD}, cursor=True, counts=False),
    Request({"q": COMMON_WORD, "sort": "-published_at"}, counts=False),
    Request({"q": COMMON_WORD, "sort": "-published_at"}, cursor=True, counts=False),
    Request({"q": RARE_WORD, "tag": "python"}),
    Request({"q": COMMON_WORD, "tag": "python", "sort": "-published_at"}),
    Request({"q": RARE_WORD, "author": 0}, rare=True),
    Request({"q": RARE_WORD, "author": 1, "sort": "-published_at"}, rare=True),
    Request({"q": COMMON_WORD, "author": 1, "sort": "-published_at"}),
    Request({"q": f"{COMMON_WORD} -{RARE_WORD}"}),
    Request({"q": f"{RARE_WORD} or hills"}, rare=True),
    Request({"q": '"weather report"'}, rare=True),
]


def request_id(request: Request) -> str:
    """A readable test id."""
    return " ".join(f"{k}={v}" for k, v in request.params.items()) + (
        " +cursor" if request.cursor else ""
    )


@pytest.mark.parametrize("request_", REQUESTS, ids=request_id)
def test_a_search_is_read_from_the_full_text_index(blog: Blog, request_: Request) -> None:
    params = {
        key: blog.authors[value] if key == "author" else value
        for key, value in request_.params.items()
    }
    if request_.cursor:
        first = blog.client.get(f"{API}/posts", query_string=params).get_json()
        params["cursor"] = first["meta"]["next_cursor"]
        assert params["cursor"], first["meta"]
    with sent_statements(blog.app, lambda statement: True) as statements:
        response = blog.client.get(f"{API}/posts", query_string=params)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"], params
    sent = searches(statements)
    pages = [(s, p) for s, p in sent if "LIMIT" in s]
    counts = [(s, p) for s, p in sent if "count(" in s]
    assert len(pages) == 1, statements
    assert len(counts) == (1 if request_.counts else 0), statements
    for statement, parameters in sent:
        problems = plan_problems(blog.app, statement, parameters, gin=request_.rare)
        assert problems == [], (params, statement)


def test_a_rare_word_costs_as_little_among_one_authors_posts_as_among_all(blog: Blog) -> None:
    # SQLite, left to itself, counted an author's matches by walking her posts (half the blog)
    # and asking FTS5 about each: 70,283 steps where the whole blog's count took 34.
    work = {}
    for params in ({"q": RARE_WORD}, {"q": RARE_WORD, "author": blog.authors[0]}):
        with sent_statements(blog.app, lambda statement: True) as statements:
            assert blog.client.get(f"{API}/posts", query_string={**params, "status": "all"})
        [(statement, parameters)] = [(s, p) for s, p in searches(statements) if "count(" in s]
        work[len(params)] = rows_read_for(blog.app, statement, parameters)
    assert work[2] <= 2 * work[1] + 20, work
