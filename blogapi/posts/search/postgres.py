"""PostgreSQL's search: a stored tsvector with a GIN index, websearch_to_tsquery, ts_rank,
and ts_headline over the page's excerpts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Text,
    column,
    func,
    literal,
    literal_column,
    select,
    values,
)

from blogapi.db.unmapped import VECTOR
from blogapi.extensions import db
from blogapi.posts.search.base import Search
from blogapi.posts.search.query import SearchQuery, wanted, websearch_text
from blogapi.posts.search.schema import CONFIGURATION, PARSER_SPECIAL, STAND_INS
from blogapi.posts.search.snippets import START, STOP

# ts_rank's weights for D, C (body), B (summary, tags) and A (title). ts_rank adds a term's
# occurrences with falling weights, so the sum never reaches 1.65 times the largest: one
# match in the title outranks any number in the summary, and one there any in the body.
POSTGRES_WEIGHTS = "{0.1, 0.1, 0.4, 1.0}"
HIGHLIGHT_ALL = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"
CONFIG: ColumnElement[Any] = literal_column(f"'{CONFIGURATION}'::regconfig")
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

    def mark(self, texts: dict[int, tuple[str, str]]) -> dict[int, tuple[str, str]]:
        """Every match marked by ts_headline with HighlightAll (its choice of a best fragment
        is what would cost: snippets.py). It reads each text as the index did (lowered,
        PARSER_SPECIAL as separators), and the marks go back into the text as written."""
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
        return {
            row[0]: (marks_into(texts[row[0]][0], row[1]), marks_into(texts[row[0]][1], row[2]))
            for row in rows
        }
