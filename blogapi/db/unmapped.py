"""Database objects no model maps: the full-text search index, which posts/search/schema.py
builds by hand on each database. Alembic's comparison with the models leaves them alone."""

from __future__ import annotations

from typing import Any

FTS_TABLE = "posts_fts"  # SQLite's FTS5 table (and its shadow tables posts_fts_*)
VECTOR = "search_vector"  # PostgreSQL's generated tsvector column on posts
GIN_INDEX = "ix_posts_search"  # PostgreSQL's index on it


def include_name(name: str | None, type_: str, _parent_names: dict[str, Any]) -> bool:
    """Whether Alembic reflects this name: not the FTS5 tables."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))


def include_object(
    _obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Whether Alembic compares this object with the models: not the tsvector or its index."""
    if type_ == "column" and reflected and compare_to is None and name == VECTOR:
        return False
    return not (type_ == "index" and name == GIN_INDEX)
