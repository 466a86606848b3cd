"""Full-text search behind one interface: PostgreSQL's tsvector and SQLite's FTS5.

A `Search` narrows a SELECT of posts to those matching the query, gives the rank to order
them by, and, for one page of posts only, their ranks and marked snippets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
)

from blogapi.db.models import Post
from blogapi.db.unmapped import FTS_TABLE, VECTOR
from blogapi.extensions import db
from blogapi.posts.search.query import (
    SearchQuery,
    fts5_expression,
    parse,
    wanted,
    websearch_text,
)
from blogapi.posts.search.schema import CONFIGURATION, UNTAG, postgres_text
from blogapi.posts.search.snippets import ELLIPSIS, START, STOP, has_match, snippet_html

# PostgreSQL: ts_rank's weights for D, C (body), B (summary, tags) and A (title). ts_rank adds
# a term's occurrences with falling weights, so the sum never reaches 1.65 times the largest:
# one match in the title outranks any number in the summary, and one there any in the body.
POSTGRES_WEIGHTS = "{0.1, 0.1, 0.4, 1.0}"
# SQLite: bm25() weights for title, summary, body text and tag names.
SQLITE_WEIGHTS = (10.0, 4.0, 1.0, 4.0)
HEADLINE_OPTIONS = f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15, ShortWord=3"
SNIPPET_TOKENS = 40


@dataclass(frozen=True)
class Found:
    """A post on the page: how well it matched, and the text around the match (HTML)."""

    rank: float
    snippet: str


def best_snippet(body: str | None, title: str | None) -> str:
    """The body's snippet when the match is there, else the title's, else the body's start."""
    for marked in (body, title):
        if marked and has_match(marked):
            return snippet_html(marked)
    return snippet_html(body or title or "")


class Search(ABC):
    """A search query bound to the database in use."""

    def __init__(self, query: SearchQuery) -> None:
        self.query = query

    @abstractmethod
    def narrow(self, statement: Select[Any]) -> Select[Any]:
        """`statement` (reading posts) limited to matching posts."""

    @property
    @abstractmethod
    def rank(self) -> ColumnElement[float]:
        """How well a post matches, higher first; valid in a narrowed statement."""

    @abstractmethod
    def found(self, post_ids: Sequence[int]) -> dict[int, Found]:
        """Rank and snippet of these matching posts (one page)."""


class PostgresSearch(Search):
    """A stored tsvector with a GIN index, queried through websearch_to_tsquery."""

    def __init__(self, query: SearchQuery) -> None:
        super().__init__(query)
        config: ColumnElement[Any] = literal_column(f"'{CONFIGURATION}'::regconfig")
        self.tsquery = func.websearch_to_tsquery(config, literal(websearch_text(query)))
        # ts_rank scores `a & !b` about 0 (1e-20) whatever matched `a`: rank by what is
        # wanted, so that an exclusion keeps the title > summary > body order of the rest.
        self.wanted = func.websearch_to_tsquery(config, literal(websearch_text(wanted(query))))
        self.vector: ColumnElement[Any] = literal_column(f"posts.{VECTOR}")

    def narrow(self, statement: Select[Any]) -> Select[Any]:
        """Posts whose vector matches; nothing when the query is only exclusions or stop
        words, which the index cannot answer (querytree says "T")."""
        return statement.where(
            func.querytree(self.tsquery) != "T", self.vector.op("@@")(self.tsquery)
        )

    @property
    def rank(self) -> ColumnElement[float]:
        """ts_rank over the post's weighted vector, of the wanted terms."""
        weights: ColumnElement[Any] = literal_column(f"'{POSTGRES_WEIGHTS}'::float4[]")
        return func.ts_rank(weights, self.vector, self.wanted).cast(Float)

    def found(self, post_ids: Sequence[int]) -> dict[int, Found]:
        """ts_headline of the body text and the title, for these posts only."""
        config: ColumnElement[Any] = literal_column(f"'{CONFIGURATION}'::regconfig")
        options = literal(HEADLINE_OPTIONS)

        def headline(column: str) -> Any:
            text: ColumnElement[str] = literal_column(postgres_text(f"posts.{column}"))
            return func.replace(func.ts_headline(config, text, self.tsquery, options), UNTAG, "")

        rows = db.session.execute(
            select(Post.id, self.rank, headline("body_text"), headline("title")).where(
                Post.id.in_(post_ids)
            )
        )
        return {row[0]: Found(row[1], best_snippet(row[2], row[3])) for row in rows}


class SqliteSearch(Search):
    """An FTS5 table over posts, queried with a translated expression, ranked by bm25()."""

    def __init__(self, query: SearchQuery) -> None:
        super().__init__(query)
        self.fts = table(FTS_TABLE, column("rowid"))
        self.expression: ColumnElement[str] = bindparam("fts_query", fts5_expression(query))
        whole: ColumnElement[Any] = literal_column(FTS_TABLE)
        self.matches = whole.op("MATCH")(self.expression)
        self.matched = (
            select(
                self.fts.c.rowid.label("id"),
                (-func.bm25(whole, *SQLITE_WEIGHTS)).label("rank"),
            )
            .where(self.matches)
            .subquery("matched")
        )

    def narrow(self, statement: Select[Any]) -> Select[Any]:
        """Posts joined to their FTS5 matches."""
        return statement.join(self.matched, self.matched.c.id == Post.id)

    @property
    def rank(self) -> ColumnElement[float]:
        """-bm25(): FTS5's best match has the lowest bm25."""
        return self.matched.c.rank

    def found(self, post_ids: Sequence[int]) -> dict[int, Found]:
        """snippet() of the body text and the title, for these posts only."""
        whole: ColumnElement[Any] = literal_column(FTS_TABLE)

        def snippet(index: int) -> Any:
            return func.snippet(whole, index, START, STOP, ELLIPSIS, SNIPPET_TOKENS)

        rows = db.session.execute(
            select(
                self.fts.c.rowid,
                -func.bm25(whole, *SQLITE_WEIGHTS),
                snippet(2),
                snippet(0),
            ).where(self.matches, self.fts.c.rowid.in_(post_ids))
        )
        return {row[0]: Found(row[1], best_snippet(row[2], row[3])) for row in rows}


ENGINES: dict[str, type[Search]] = {"postgresql": PostgresSearch, "sqlite": SqliteSearch}


def search_for(text: str) -> Search | None:
    """The search for a search box's text on the database in use; None when the text asks
    for nothing an index can find (only stop words, only exclusions, no words at all)."""
    query = parse(text, current_app.config.get("SEARCH_LANGUAGE", "english"))
    if not query.answerable:
        return None
    return ENGINES[db.engine.dialect.name](query)
