"""Search stays cheap whatever is searched: a bounded query, answered by the database's own
full-text code (whether it uses the index is test_query_plans's story)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from blogapi.extensions import db
from tests.support.posts import API, published_post
from tests.support.problems import assert_problem


def found(client, q: str) -> set[int]:
    """The ids of the published posts a search finds."""
    response = client.get(f"{API}/posts", query_string={"q": q, "per_page": 100})
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def test_a_query_of_1000_characters_is_enough_and_longer_is_refused(client, author):
    post = published_post(client, author, title="Tides", body="The tides turn.")
    longest = ("tides " * 200)[:1000]  # every term past MAX_TERMS is ignored, not refused
    assert found(client, longest) == {post["id"]}
    assert found(client, "x" * 1000) == set()  # one 1000-letter word

    for q in (longest + "s", "x" * 1001):
        response = client.get(f"{API}/posts", query_string={"q": q})
        assert list(assert_problem(response, 422)["errors"]) == ["q"]


def test_sqlite_runs_no_python_function_for_search(app, client, author):
    """A function registered from Python (the LIKE era's Unicode lower()) runs once per row
    with the GIL held; the app registers none, so search runs in SQLite's C code only."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL calls no Python code")
        connection = db.session.connection().connection.driver_connection
        query = "SELECT name, narg FROM pragma_function_list WHERE builtin = 0"
        registered = set(connection.execute(query).fetchall())
        lowers = connection.execute(
            "SELECT builtin FROM pragma_function_list WHERE name = 'lower'"
        ).fetchall()
        db.session.rollback()
    # Extensions compiled into SQLite (FTS5, R*Tree, …) are listed as not built in too, and
    # SQLAlchemy registers regexp() and floor(): the app's connection has exactly those of a
    # bare SQLAlchemy connection, nothing of its own.
    bare = create_engine("sqlite://")
    with bare.connect() as connection:
        assert registered == {tuple(row) for row in connection.execute(text(query))}
    bare.dispose()
    assert lowers == [(1,)]  # SQLite's own lower() only
    post = published_post(client, author, title="Snakes", body="A SNAKE.")
    assert found(client, "snake") == {post["id"]}  # and search still works without one
