"""Guards without timing: list pages are served by indexes, and authenticated reads cost one query.

The plans are asked of the database the suite runs on (SQLite, then PostgreSQL), for the exact
statements the API sends.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from blogapi.db.models import Post, User
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from blogapi.web.cursors import Cursor, encode_cursor
from tests.support.databases import counted_queries, plan_nodes, sent_statements
from tests.support.posts import API, published_post

LIST_QUERIES = [
    {"per_page": 5},
    {"per_page": 5, "sort": "-created_at"},
    {"per_page": 5, "sort": "title"},
    {"per_page": 5, "sort": "published_at"},
]


def captured(app: Any) -> AbstractContextManager[list[tuple[str, Any]]]:
    """The SELECT statements (with their parameters) that the app sends to the database."""
    return sent_statements(app, lambda statement: statement.lstrip().upper().startswith("SELECT"))


def raw_plan(plan: str) -> Any:
    """PostgreSQL's JSON plan as Python objects."""
    return json.loads(plan)


def nodes_on_posts(plan: Any) -> list[str]:
    """Seq Scan nodes reading posts, and Sort nodes above a read of posts."""
    found: list[str] = []
    for node in plan_nodes(plan):
        children = node.get("Plans", [])
        reads_posts = node.get("Relation Name") == "posts" or any(
            c.get("Relation Name") == "posts" for c in children
        )
        if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == "posts":
            found.append("Seq Scan")
        if node.get("Node Type") == "Sort" and reads_posts:
            found.append("Sort")
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


@pytest.mark.parametrize("status", ["all", "draft"])
def test_an_editors_list_with_drafts_is_read_in_order_through_an_index(
    app, client, blog, make_account, status
):
    editor = make_account("editor")
    for n in range(3):
        draft = {"title": f"Draft {n}", "body": "Not yet."}
        assert client.post(f"{API}/posts", json=draft, headers=editor.headers).status_code == 201
    in_order = status == "all"  # drafts alone may be found through an index and sorted

    def read_through_an_index(params):
        with captured(app) as statements:
            response = client.get(f"{API}/posts", query_string=params, headers=editor.headers)
        assert response.status_code == 200 and response.get_json()["items"], params
        pages = [(s, p) for s, p in statements if "FROM posts" in s and "LIMIT" in s]
        assert pages, statements
        for statement, parameters in pages:
            problems = plan_problems(app, statement, parameters, sorted_by_index=in_order)
            assert problems == [], (params, statement)
        return response.get_json()["meta"]["next_cursor"]

    query = {"status": status, "per_page": 2}
    cursor = read_through_an_index(query)
    read_through_an_index({**query, "page": 2})
    read_through_an_index({**query, "cursor": cursor})
    if status == "all":  # a cursor on a published post, past every draft
        deeper = {**query, "per_page": 4, "cursor": cursor}
        past_drafts = client.get(f"{API}/posts", query_string=deeper, headers=editor.headers)
        read_through_an_index({**query, "cursor": past_drafts.get_json()["meta"]["next_cursor"]})


def test_reading_my_account_is_one_query(app, client, blog):
    author = blog[0]
    counts, answers = [], []
    for _ in range(4):
        with counted_queries(app) as statements:
            me = client.get(f"{API}/auth/me", headers=author.headers)
        assert me.status_code == 200
        counts.append(len(statements))
        answers.append(me.get_data())
    # Through Flask, the account is read once (with the token verified, so is everything a
    # stored answer depends on: the account, the token's revocation, the content version);
    # from then on that one read is all: the answer is replayed before Flask runs.
    assert max(counts) <= 2 and counts[-2:] == [1, 1], counts
    assert len(set(answers)) == 1


def rows_read_for(app: Any, statement: str, parameters: Any) -> int:
    """How much work the database does for one statement, counted, not timed: SQLite's virtual
    machine steps, or the rows PostgreSQL's scans of posts produce and throw away."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            raw = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            ).scalar()
            db.session.rollback()
            return sum(
                node.get("Actual Rows", 0) * node.get("Actual Loops", 1)
                + node.get("Rows Removed by Filter", 0)
                for node in plan_nodes(raw)
                if node.get("Relation Name") == "posts"
            )
        steps = [0]

        def count_step() -> int:
            steps[0] += 1
            return 0  # 0: carry on

        sqlite = connection.connection.driver_connection
        sqlite.set_progress_handler(count_step, 10)
        try:
            connection.exec_driver_sql(statement, parameters).all()
        finally:
            sqlite.set_progress_handler(None, 0)
            db.session.rollback()
        return steps[0]


@pytest.mark.parametrize("sort", ["-published_at", "published_at"])
def test_a_deep_cursor_page_costs_what_a_shallow_one_does(app, client, make_account, sort):
    author = make_account("author")
    start = utcnow() - timedelta(days=30)
    with app.app_context():
        author_id = db.session.scalar(select(User.id).where(User.username == author.username))
        db.session.add_all(
            Post(
                slug=f"bulk-{n}",
                title=f"Bulk {n}",
                body="words",
                body_html="<p>words</p>",
                author_id=author_id,
                published_at=start + timedelta(minutes=n),
            )
            for n in range(600)
        )
        db.session.commit()
        postgres = db.session.connection().dialect.name == "postgresql"
        if postgres:
            # Fresh statistics, as autovacuum may gather at any moment: the plan must not
            # depend on whether it has.
            db.session.execute(text("ANALYZE posts"))
            db.session.commit()
        in_order = db.session.execute(
            select(Post.published_at, Post.id).order_by(
                Post.published_at.desc() if sort.startswith("-") else Post.published_at,
                Post.id.desc() if sort.startswith("-") else Post.id,
            )
        ).all()
    cost = {}
    for depth in (10, 550):
        key, post_id = in_order[depth]
        cursor = encode_cursor(Cursor(sort, key, post_id))
        with captured(app) as statements:
            page = client.get(f"{API}/posts", query_string={"sort": sort, "cursor": cursor})
        assert page.status_code == 200 and len(page.get_json()["items"]) == 20
        [(statement, parameters)] = [(s, p) for s, p in statements if "LIMIT" in s]
        cost[depth] = rows_read_for(app, statement, parameters)
    # Walking the index from the newest post down to the cursor cost 635 steps against 95 on
    # SQLite (on PostgreSQL it would read the 550 posts before the cursor). PostgreSQL may
    # instead read the few posts past a deep cursor (49) and sort them, as its statistics and
    # the table's layout make it cheaper: no walk from the top either.
    past_cursor = len(in_order) - 550 - 1
    assert cost[550] <= max(2 * cost[10], past_cursor if postgres else 0), cost


def test_the_trash_is_read_in_order_through_its_own_index(app, client, blog, make_account):
    editor = make_account("editor")
    posts = client.get(f"{API}/posts", query_string={"per_page": 6}).get_json()["items"]
    for post in posts:
        assert client.delete(f"{API}/posts/{post['id']}", headers=editor.headers).status_code == 204
    with captured(app) as statements:
        page = client.get(
            f"{API}/trash", query_string={"per_page": 2, "page": 2}, headers=editor.headers
        )
    assert [item["id"] for item in page.get_json()["items"]] == [posts[3]["id"], posts[2]["id"]]
    pages = [(s, p) for s, p in statements if "FROM posts" in s and "LIMIT" in s]
    assert pages, statements
    for statement, parameters in pages:
        assert plan_problems(app, statement, parameters, sorted_by_index=True) == [], statement
