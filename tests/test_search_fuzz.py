"""Any text is a search: Hypothesis types arbitrary strings into the search box.

Through `GET /posts?q=` on the suite's database (SQLite, then PostgreSQL): never a 500, always a
well-formed page whose cursors lead on, never someone else's draft. And straight into a real
FTS5 table: the expression the query becomes is always one FTS5 reads without a syntax error.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from blogapi.posts.search.language import fts5_tokenizer
from blogapi.posts.search.query import fts5_expression, parse
from tests.support.accounts import Account, sign_up
from tests.support.apps import dispose, make_app
from tests.support.posts import API, new_post, published_post
from tests.support.problems import assert_problem

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
Q_MAX = 1000
# Pieces that mean something to a query parser somewhere: ours, FTS5's, PostgreSQL's, SQL's.
OPERATORS = [
    *('"', "'", "-", "--", "+", "*", ":", "^", "(", ")", "{", "}", "[", "]", "|", "&", "!"),
    *("or", "OR", "Or", "AND", "NOT", "NEAR(", "NEAR", ",", "NEAR(common post, 2)"),
    *("title:", "{title body}:", "common*", "^common", "- common", '-"common', 'or "'),
    *("<->", "<2>", "!common", "common:*", "common & post", "common | post", "\\", "\\'"),
    *("'; DROP TABLE posts; --", "' OR 1=1 --", "%", "_", "\x00", "\x01", "\t", "\n"),
    *("😀", "\U0001f469\U0001f3fd\u200d\U0001f4bb", "שלום", "مرحبا", "\u202e", "\u200b"),
    *("\ufeff", "\ufb01", "\uff26\uff55\uff4c\uff4c", "ß"),  # BOM, ligature fi, fullwidth Full
    # Words of the posts below, and stop words, so that some queries find something.
    *("common", "words", "post", "secret", "coffee", "published", "publishing", "the", "a"),
]
pieces = st.one_of(st.sampled_from(OPERATORS), st.text(max_size=12))
# Whole strings: anything at all, and runs of the pieces above with or without spaces.
queries = st.one_of(
    st.text(max_size=200),
    st.lists(pieces, max_size=24).map(" ".join),
    st.lists(pieces, max_size=24).map("".join),
)


http_queries = queries  # NUL included: search text takes it for a space
# The words of the posts: a reader's search for them finds the published ones.
COMMON = "Common words of this post: coffee, the weather, and publishing; 2 < 3 & 4 > 1."
MARKUP = re.compile(r"<(?!/?mark>)")  # anything in a snippet that starts a tag but <mark>


@dataclass
class Site:
    """The app, a reader's client, and the slugs of the published posts and of the draft."""

    app: Flask
    client: FlaskClient
    other: Account
    published: set[str]
    draft: str


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """Published posts and one author's draft, all with the same common words."""
    app = make_app()
    client = app.test_client()
    writer, other = sign_up(client, app, "fuzzwriter"), sign_up(client, app, "fuzzreader")
    published = {
        published_post(client, writer, title=f"Common post {n}", body=COMMON, tags=["common"])[
            "slug"
        ]
        for n in range(3)
    }
    draft = new_post(
        client, writer, title="Common secret draft", body=COMMON + " Secret.", tags=["common"]
    )
    yield Site(app, client, other, published, draft["slug"])
    dispose(app)


def check_page(site: Site, response: Any) -> dict[str, Any]:
    """A well-formed page of search results holding published posts only."""
    assert response.status_code == 200, response.get_data(as_text=True)
    page: dict[str, Any] = response.get_json()
    meta = page["meta"]
    assert isinstance(meta["total"], int) and 0 <= meta["total"] <= len(site.published)
    assert len(page["items"]) <= meta["per_page"]
    for item in page["items"]:
        assert item["slug"] in site.published, item["slug"]
        assert isinstance(item["match"]["rank"], int | float)
        assert not MARKUP.search(item["match"]["snippet"]), item["match"]["snippet"]
    return page


def every_page(site: Site, params: dict[str, Any], headers: dict[str, str]) -> list[str]:
    """The slugs of every page of a search, one post per page, following the cursors."""
    slugs: list[str] = []
    params = {**params, "per_page": 1}
    for _ in range(len(site.published) + 1):
        page = check_page(
            site, site.client.get(f"{API}/posts", query_string=params, headers=headers)
        )
        slugs += [item["slug"] for item in page["items"]]
        if page["meta"]["next_cursor"] is None:
            return slugs
        params = {**params, "cursor": page["meta"]["next_cursor"]}
    raise AssertionError(f"more pages than posts: {slugs}")


@FUZZ
@given(text=http_queries)
@example(text="common")
@example(text='NEAR(common post, 2) "unclosed')
@example(text="-common")
@example(text="secret")
@example(text="x" * Q_MAX)
def test_any_text_gives_a_page_of_published_posts(site: Site, text: str) -> None:
    reader = site.client.get(f"{API}/posts", query_string={"q": text, "per_page": 100})
    page = check_page(site, reader)
    total = page["meta"]["total"]
    assert len(page["items"]) == total
    # Another author with status=all sees what a reader sees: the draft is not hers.
    for params in ({"q": text, "status": "all"}, {"q": text, "sort": "-published_at"}):
        slugs = every_page(site, params, site.other.headers)
        assert len(slugs) == len(set(slugs)) == total, slugs
        assert set(slugs) == {item["slug"] for item in page["items"]}


@FUZZ
@given(text=st.text(min_size=Q_MAX - len(" x ") + 1, max_size=Q_MAX + 20))
def test_a_query_past_the_cap_is_refused_not_crashed(site: Site, text: str) -> None:
    text = "x" + text + "x"  # not shortened by trimming
    response = site.client.get(f"{API}/posts", query_string={"q": text})
    if len(text) > Q_MAX:
        assert_problem(response, 422)
    else:
        check_page(site, response)


@pytest.fixture(scope="module")
def fts5() -> Iterator[sqlite3.Connection]:
    """A real FTS5 table, made as the posts index is, holding a few rows."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(title, summary, body_text, tag_names, "
        f"tokenize='{fts5_tokenizer('english')}')"
    )
    rows = [
        ("Common post", "", COMMON, "common"),
        ("NEAR AND OR NOT", "quotes \" and ' and *", "Zürich ß ﬁ 😀 שלום", "c++ e-mail"),
    ]
    connection.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    yield connection
    connection.close()


@FUZZ
@given(text=queries)
@example(text='"')
@example(text="NEAR(")
@example(text="a* OR b:c ^d")
@example(text='- - or or "" -"" "-"')
def test_fts5_reads_every_expression_a_query_becomes(fts5: sqlite3.Connection, text: str) -> None:
    query = parse(text, "english")
    if not query.answerable:
        return
    # Raises sqlite3.OperationalError ("fts5: syntax error near …") if user input leaks through.
    fts5.execute("SELECT rowid FROM docs WHERE docs MATCH ?", (fts5_expression(query),)).fetchall()
