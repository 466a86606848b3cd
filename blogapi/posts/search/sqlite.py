"""SQLite's search: an FTS5 table over posts, a translated expression, bm25(), and
highlight() over the page's excerpts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)

from blogapi.db.models import Post
from blogapi.db.unmapped import FTS_TABLE
from blogapi.extensions import db
from blogapi.posts.search.base import Search
from blogapi.posts.search.language import fts5_tokenizer
from blogapi.posts.search.query import SearchQuery, fts5_expression
from blogapi.posts.search.snippets import START, STOP

# bm25() weights for title, summary, body text and tag names.
SQLITE_WEIGHTS = (10.0, 4.0, 1.0, 4.0)
# FTS5's hidden column named after its table: the row as a whole, for MATCH and bm25().
WHOLE_ROW: ColumnElement[Any] = literal_column(FTS_TABLE)
EXCERPTS = "search_excerpts"  # the TEMP FTS5 table a page's excerpts are marked in


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

    def mark(self, texts: dict[int, tuple[str, str]]) -> dict[int, tuple[str, str]]:
        """Every match marked by FTS5's highlight().

        On posts_fts, highlight() would tokenize whole bodies and snippet() compares every
        match with every other: seconds for a body of one word repeated. So the page's
        excerpts go into a small FTS5 table of this connection's own (TEMP: never in the
        database file, nothing to lock) with the same tokenizer, and are marked there.
        """
        name = f"{EXCERPTS}_{self.language}"
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
            [{"id": ident, "title": title, "body": body} for ident, (body, title) in texts.items()],
        )
        rows = connection.execute(
            text(
                f"SELECT rowid, highlight({name}, 1, :start, :stop), "
                f"highlight({name}, 0, :start, :stop) FROM temp.{name} WHERE {name} MATCH :query"
            ),
            {"start": START, "stop": STOP, "query": self.expression},
        )
        return {row[0]: (row[1], row[2]) for row in rows}
