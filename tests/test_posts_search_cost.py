"""Search stays cheap whatever is searched: a short query, matched by the database's own code."""

from __future__ import annotations

from typing import Any

import pytest

from blogapi.extensions import db
from tests.support.databases import sent_statements
from tests.support.posts import API, published_post
from tests.support.problems import assert_problem


def found(client, q: str) -> set[int]:
    """The ids of the published posts a search finds."""
    response = client.get(f"{API}/posts", query_string={"q": q, "per_page": 100})
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def test_a_query_of_a_search_box_length_is_enough_and_longer_is_refused(client, author):
    post = published_post(client, author, title="t", body="ab" * 60)
    assert found(client, "ab" * 50) == {post["id"]}  # 100 characters

    response = client.get(f"{API}/posts", query_string={"q": "ab" * 50 + "a"})

    problem = assert_problem(response, 422)
    assert list(problem["errors"]) == ["q"]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("ÄRGER", {"umlaut"}),
        ("über", {"umlaut"}),
        ("ΣΟΦΊΑ", {"greek"}),
        ("ДОМ", {"cyrillic"}),
        ("a*b", {"star"}),
        ("*", {"star"}),
        ("?", {"question"}),
        ("[x]", {"bracket"}),
        ("]", {"bracket"}),
        ("^", {"caret"}),
    ],
)
def test_search_ignores_case_in_every_script_and_takes_glob_characters_literally(
    client, author, q, expected
):
    made = {
        "umlaut": published_post(client, author, title="Ärger", body="Über alles"),
        "greek": published_post(client, author, title="t", body="η σοφία"),
        "cyrillic": published_post(client, author, title="Мой дом", body="x"),
        "star": published_post(client, author, title="t", body="a*b"),
        "question": published_post(client, author, title="why?", body="x"),
        "bracket": published_post(client, author, title="t", body="see [x]"),
        "caret": published_post(client, author, title="t", body="2^8"),
        "plain": published_post(client, author, title="ab", body="axb arger uber"),
    }
    assert found(client, q) == {made[name]["id"] for name in expected}


def python_functions_in(app: Any, statement: str, parameters: Any) -> list[str]:
    """The functions SQLite's program for a statement calls that are not its own C built-ins
    (a function registered from Python, such as a Unicode lower(), runs once per row)."""
    with app.app_context():
        sqlite = db.session.connection().connection.driver_connection
        program = sqlite.execute("EXPLAIN " + statement, parameters).fetchall()
        registered = {
            f"{name}({narg})"
            for name, narg in sqlite.execute(
                "SELECT name, narg FROM pragma_function_list WHERE builtin = 0"
            )
        }
        db.session.rollback()
    called = [row[5] for row in program if row[1] in ("Function", "PureFunc")]
    assert called, program  # the search does call functions (LIKE, GLOB): the check sees them
    return [function for function in called if function in registered]


@pytest.mark.parametrize("q", ["snake", "schlänge"])  # LIKE for ASCII, GLOB for the rest
def test_search_runs_no_python_function_over_post_bodies(app, client, author, q):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL registers no Python functions")
    published_post(client, author, title="Python", body="a SNAKE, eine SCHLÄNGE")
    with sent_statements(app, lambda statement: "posts.body" in statement) as statements:
        assert found(client, q)
    searches = [(s, p) for s, p in statements if "WHERE" in s]
    assert searches, statements
    for statement, parameters in searches:
        assert python_functions_in(app, statement, parameters) == [], statement
