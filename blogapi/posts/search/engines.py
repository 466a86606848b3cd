"""Full-text search behind one interface (base.Search): PostgreSQL's tsvector
(postgres.py) and SQLite's FTS5 (sqlite.py).

A `Search` narrows a SELECT of posts to those matching the query, gives the rank to order
them by (valid in any narrowed statement), and marks the matches of one page of posts.
"""

from __future__ import annotations

from flask import current_app

from blogapi.extensions import db
from blogapi.posts.search.base import Search
from blogapi.posts.search.postgres import PostgresSearch
from blogapi.posts.search.query import parse
from blogapi.posts.search.sqlite import SqliteSearch

ENGINES: dict[str, type[Search]] = {"postgresql": PostgresSearch, "sqlite": SqliteSearch}


def search_for(text: str) -> Search | None:
    """The search for a search box's text on the database in use; None when the text asks
    for nothing an index can find (only stop words, only exclusions, no words at all)."""
    language = current_app.config.get("SEARCH_LANGUAGE", "english")
    query = parse(text, language)
    if not query.answerable:
        return None
    return ENGINES[db.engine.dialect.name](query, language)
