"""Full-text search behind one interface: PostgreSQL's tsvector and SQLite's FTS5.

A `Search` narrows a SELECT of posts to those matching the query, gives the rank to order
them by (valid in any narrowed statement), and marks the matches of one page of posts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Text,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    values,
)

from blogapi.db.models import Post
from blogapi.db.unmapped import FTS_TABLE, VECTOR
from blogapi.extensions import db
from blogapi.posts.search.language import fts5_tokenizer
from blogapi.posts.search.query import (
    SearchQuery,
    fts5_expression,
    parse,
    wanted,
    websearch_text,
)
from blogapi.posts.search.schema import CONFIGURATION, PARSER_SPECIAL, STAND_INS
from blogapi.posts.search.snippets import (
    EXCERPT_CHARS,
    START,
    STOP,
    excerpt,
    has_match,
    snippet_html,
)

# PostgreSQL: ts_rank's weights for D, C (body), B (summary, tags) and A (title). ts_rank adds
# a term's occurrences with falling weights, so the sum never reaches 1.65 times the largest:
# one match in the title outranks any number in the summary, and one there any in the body.
POSTGRES_WEIGHTS = "{0.1, 0.1, 0.4, 1.0}"
# SQLite: bm25() weights for title, summary, body text and tag names.
SQLITE_WEIGHTS = (10.0, 4.0, 1.0, 4.0)
HIGHLIGHT_ALL = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"
CONFIG: ColumnElement[Any] = literal_column(f"'{CONFIGURATION}'::regconfig")
# FTS5's hidden column named after its table: the row as a whole, for MATCH and bm25().
WHOLE_ROW: ColumnElement[Any] = literal_column(FTS_TABLE)
EXCERPTS = "search_excerpts"  # SQLite: the TEMP FTS5 table a page's excerpts are marked in


def best_snippet(post: Post, body: str | None, title: str | None) -> str:
    """The marked body excerpt when a match is there, else the marked title, else the body's
    start (the match was in the summary or the tags)."""
    for marked in (body, title):
        if marked and has_match(marked):
            return snippet_html(marked)
    return snippet_html(post.body_text[:EXCERPT_CHARS] or post.title)


_TO_STAND_INS = str.maketrans(PARSER_SPECIAL, STAND_INS)


def as_indexed(text: str) -> str:
    """Text as PostgreSQL's index reads it (schema.postgres_text), for ts_headline."""
    return text.lower().translate(_TO_STAND_INS)


def marks_into(text: str, marked: str) -> str:
    """ts_headline's marks on as_indexed(text), put into `text` as written: both have the same
    characters but for case and PARSER_SPECIAL (when lowering changed the length, as it
    does for a few letters, the marked lowered text itself)."""
    plain = marked.replace(START, "").replace(STOP, "")
    if len(plain) != len(text):
        return marked.translate(_FROM_STAND_INS)
    written = iter(text)
    return "".join(char if char in (START, STOP) else next(written) for char in marked)


_FROM_STAND_INS = str.maketrans(STAND_INS, PARSER_SPECIAL)


def searched_words(query: SearchQuery) -> list[str]:
    """The words a query looks for (not those it excludes)."""
    return [
        word for group in query.groups for term in group if not term.excluded for word in term.words
    ]


class Search(ABC):
    """A search query bound to the database in use."""

    def __init__(self, query: SearchQuery, language: str) -> None:
        self.query = query
        self.language = language

    @abstractmethod
    def narrow(self, statement: Select[Any]) -> Select[Any]:
        """`statement` (reading posts) limited to matching posts."""

    @property
    @abstractmethod
    def rank(self) -> ColumnElement[float]:
        """How well a post matches, higher first; valid in a narrowed statement."""

    @abstractmethod
    def snippets(self, posts: Sequence[Post]) -> dict[int, str]:
        """Each of these matching posts (one page) -> its snippet (HTML)."""


class PostgresSearch(Search):
    """A stored tsvector with a GIN index, queried through websearch_to_tsquery."""

    def __init__(self, query: SearchQuery, language: str) -> None:
        super().__init__(query, language)
        self.tsquery = func.websearch_to_tsquery(CONFIG, literal(websearch_text(query)))
        # ts_rank scores `a & !b` about 0 (1e-20) whatever matched `a`: rank by what is
        # wanted, so that an exclusion keeps the title > summary > body order of the rest.
        self.wanted = func.websearch_to_tsquery(CONFIG, literal(websearch_text(wanted(query))))
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

    def snippets(self, posts: Sequence[Post]) -> dict[int, str]:
        """Every match in the title and the body's excerpt, marked by ts_headline (its
        choice of a best fragment is what would cost: snippets.py). It reads each text as the
        index did (lowered, PARSER_SPECIAL as separators), and the marks go back into the
        text as written."""
        words = searched_words(self.query)
        texts = {post.id: (excerpt(post.body_text, words), post.title) for post in posts}
        pages = values(
            column("id", Integer), column("body", Text), column("title", Text), name="page"
        ).data(
            [(ident, as_indexed(body), as_indexed(title)) for ident, (body, title) in texts.items()]
        )
        options = literal(HIGHLIGHT_ALL)
        rows = db.session.execute(
            select(
                pages.c.id,
                func.ts_headline(CONFIG, pages.c.body, self.tsquery, options),
                func.ts_headline(CONFIG, pages.c.title, self.tsquery, options),
            )
        )
        marked = {
            row[0]: (marks_into(texts[row[0]][0], row[1]), marks_into(texts[row[0]][1], row[2]))
            for row in rows
        }
        return {post.id: best_snippet(post, *marked.get(post.id, (None, None))) for post in posts}


class SqliteSearch(Search):
    """An FTS5 table over posts, queried with a translated expression, ranked by bm25()."""

    def __init__(self, query: SearchQuery, language: str) -> None:
        super().__init__(query, language)
        self.expression = fts5_expression(query)
        fts = table(FTS_TABLE, column("rowid"))
        matches = WHOLE_ROW.op("MATCH")(bindparam("fts_query", self.expression))
        self.matched = (
            select(fts.c.rowid.label("id"), (-func.bm25(WHOLE_ROW, *SQLITE_WEIGHTS)).label("rank"))
            .where(matches)
            .subquery("matched")
        )

    def narrow(self, statement: Select[Any]) -> Select[Any]:
        """Posts joined to their FTS5 matches, which drive: each match finds its post."""
        # `+ 0` leaves posts.id an index lookup but FTS5's rowid none, so SQLite (which knows
        # nothing of how many posts match) cannot walk an index of posts (an author's, all of
        # them) and ask FTS5 about each post in turn.
        return statement.join(self.matched, self.matched.c.id + 0 == Post.id)

    @property
    def rank(self) -> ColumnElement[float]:
        """-bm25(): FTS5's best match has the lowest bm25."""
        return self.matched.c.rank

    def snippets(self, posts: Sequence[Post]) -> dict[int, str]:
        """Every match in the title and the body's excerpt, marked by FTS5's highlight().

        On posts_fts, highlight() would tokenize whole bodies and snippet() compares every
        match with every other: seconds for a body of one word repeated. So the page's
        excerpts go into a small FTS5 table of this connection's own (TEMP: never in the
        database file, nothing to lock) with the same tokenizer, and are marked there.
        """
        name = f"{EXCERPTS}_{self.language}"
        words = searched_words(self.query)
        connection = db.session.connection()
        made = connection.connection.info.setdefault(EXCERPTS, set())  # per SQLite connection
        if name not in made:
            tokenizer = fts5_tokenizer(self.language)
            connection.execute(
                text(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{name} USING fts5(title, body, "
                    f"tokenize='{tokenizer}')"
                )
            )
            made.add(name)
        connection.execute(text(f"DELETE FROM temp.{name}"))
        connection.execute(
            text(f"INSERT INTO temp.{name} (rowid, title, body) VALUES (:id, :title, :body)"),
            [
                {"id": post.id, "title": post.title, "body": excerpt(post.body_text, words)}
                for post in posts
            ],
        )
        rows = connection.execute(
            text(
                f"SELECT rowid, highlight({name}, 1, :start, :stop), "
                f"highlight({name}, 0, :start, :stop) FROM temp.{name} WHERE {name} MATCH :query"
            ),
            {"start": START, "stop": STOP, "query": self.expression},
        )
        marked = {row[0]: (row[1], row[2]) for row in rows}
        return {post.id: best_snippet(post, *marked.get(post.id, (None, None))) for post in posts}


ENGINES: dict[str, type[Search]] = {"postgresql": PostgresSearch, "sqlite": SqliteSearch}


def search_for(text: str) -> Search | None:
    """The search for a search box's text on the database in use; None when the text asks
    for nothing an index can find (only stop words, only exclusions, no words at all)."""
    language = current_app.config.get("SEARCH_LANGUAGE", "english")
    query = parse(text, language)
    if not query.answerable:
        return None
    return ENGINES[db.engine.dialect.name](query, language)
