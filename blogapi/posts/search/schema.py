"""The search index in each database, built and rebuilt by the same statements everywhere:
the migration, create_all() (tests) and `manage.py search reindex`.

PostgreSQL: a stored generated tsvector column over the post's title (weight A), summary (B),
body text (C) and tag names (B), in the text search configuration `blogapi_search` (a copy of
SEARCH_LANGUAGE's, with unaccent before the stemmer), and a GIN index on it.

SQLite: an FTS5 table over the same four columns, reading its text from posts (external
content) and kept in step by triggers on posts, so that every writer (the API, imports, an
admin's SQL) keeps it right.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, text

from blogapi.db.models import Post
from blogapi.db.triggers import bump
from blogapi.db.unmapped import FTS_TABLE, GIN_INDEX, VECTOR
from blogapi.posts.search.language import fts5_tokenizer, postgres_dictionary

CONFIGURATION = "blogapi_search"
# The searched columns of posts, in FTS5's column order, with PostgreSQL's weight for each.
COLUMNS = {"title": "A", "summary": "B", "body_text": "C", "tag_names": "B"}
WORD_TOKENS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"
# Characters PostgreSQL's parser reads where FTS5 sees only a separator: it takes `<x…>` for an
# HTML tag and `&x;` for an entity and indexes neither (nor anything from `<script>` on), and
# `.`, `@`, `/` and `:` join host names, e-mail addresses, paths and decimals into one token
# (example.com, a@b.org, 3.14). Both databases must hold the same words, so PostgreSQL reads
# each as a control character (a separator to it; searched text holds none: titles refuse
# them, body text has them removed).
PARSER_SPECIAL = "<&.@/:"
STAND_INS = "".join(chr(3 + index) for index in range(len(PARSER_SPECIAL)))
# PostgreSQL's parser lowers letters as the database's LC_CTYPE says: ASCII alone under C. The
# text is lowered first, by ICU's root locale where the server has it (every script), as
# FTS5 folds case in every script whatever the locale.
ICU_ROOT = "und-x-icu"


def postgres_text(column: str, collation: str | None) -> str:
    """SQL for a searched column's text as PostgreSQL's parser is to read it: lowered (in
    `collation`, when given) and with PARSER_SPECIAL as separators."""
    collate = f' COLLATE "{collation}"' if collation else ""
    stand_ins = " || ".join(f"chr({ord(char)})" for char in STAND_INS)
    return f"translate(lower(coalesce({column}, ''){collate}), '{PARSER_SPECIAL}', {stand_ins})"


def _add_vector(collation: str | None) -> str:
    """The statement that adds the generated tsvector column."""
    vector = " || ".join(
        f"setweight(to_tsvector('{CONFIGURATION}'::regconfig, "
        f"{postgres_text(column, collation)}), '{weight}')"
        for column, weight in COLUMNS.items()
    )
    return f"ALTER TABLE posts ADD COLUMN {VECTOR} tsvector GENERATED ALWAYS AS ({vector}) STORED"


def postgres_install(language: str) -> list[str]:
    """Statements that build the index on PostgreSQL for `language`."""
    return [
        "CREATE EXTENSION IF NOT EXISTS unaccent",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = "
        f"'{CONFIGURATION}' AND cfgnamespace = (SELECT oid FROM pg_namespace WHERE nspname = "
        f"current_schema())) THEN CREATE TEXT SEARCH CONFIGURATION {CONFIGURATION} "
        "(COPY = pg_catalog.simple); END IF; END $$",
        _postgres_mapping(language),
        f"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_collation WHERE collname = '{ICU_ROOT}') "
        f"THEN EXECUTE $ddl${_add_vector(ICU_ROOT)}$ddl$; "
        f"ELSE EXECUTE $ddl${_add_vector(None)}$ddl$; END IF; END $$",
        f"CREATE INDEX {GIN_INDEX} ON posts USING gin ({VECTOR})",
    ]


def _postgres_mapping(language: str) -> str:
    """The statement that makes words go through unaccent, then `language`'s stemmer."""
    return (
        f"ALTER TEXT SEARCH CONFIGURATION {CONFIGURATION} ALTER MAPPING FOR {WORD_TOKENS} "
        f"WITH unaccent, {postgres_dictionary(language)}"
    )


def postgres_uninstall() -> list[str]:
    """Statements that remove the index from PostgreSQL (unaccent stays: others may use it)."""
    return [
        f"DROP INDEX IF EXISTS {GIN_INDEX}",
        f"ALTER TABLE posts DROP COLUMN IF EXISTS {VECTOR}",
        f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIGURATION}",
    ]


def sqlite_install(language: str) -> list[str]:
    """Statements that build the index on SQLite for `language`, posts already in it included."""
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"new.{column}" for column in COLUMNS)
    old = ", ".join(f"old.{column}" for column in COLUMNS)
    forget = (
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {columns}) VALUES ('delete', old.id, {old})"
    )
    learn = f"INSERT INTO {FTS_TABLE} (rowid, {columns}) VALUES (new.id, {new})"
    return [
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({columns}, content='posts', "
        f"content_rowid='id', tokenize='{fts5_tokenizer(language)}')",
        f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON posts BEGIN {learn}; END",
        f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON posts BEGIN {forget}; END",
        # Only when searched text changes: publishing touches published_at alone.
        f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {columns} ON posts "
        f"BEGIN {forget}; {learn}; END",
        f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')",
    ]


def sqlite_uninstall() -> list[str]:
    """Statements that remove the index from SQLite."""
    triggers = [f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{op}" for op in ("insert", "delete", "update")]
    return [*triggers, f"DROP TABLE IF EXISTS {FTS_TABLE}"]


INSTALL = {"postgresql": postgres_install, "sqlite": sqlite_install}
UNINSTALL = {"postgresql": postgres_uninstall, "sqlite": sqlite_uninstall}


def install(connection: Any, language: str) -> None:
    """Build the search index for `language` on this connection's database."""
    for statement in INSTALL[connection.dialect.name](language):
        connection.execute(text(statement))


def uninstall(connection: Any) -> None:
    """Remove the search index from this connection's database."""
    for statement in UNINSTALL[connection.dialect.name]():
        connection.execute(text(statement))


def postgres_rebuild(language: str) -> list[str]:
    """Statements that index every post again on PostgreSQL, for `language`: the stemmer
    changes, and rewriting each row computes its vector again. Readers go on meanwhile (and
    see the old index until the commit), unlike a rebuilt column, which would lock them out."""
    return [_postgres_mapping(language), "UPDATE posts SET title = title"]


def sqlite_rebuild(language: str) -> list[str]:
    """Statements that index every post again on SQLite, for `language`: an FTS5 table's
    tokenizer is fixed, so the table is made again."""
    return [*sqlite_uninstall(), *sqlite_install(language)]


REBUILD = {"postgresql": postgres_rebuild, "sqlite": sqlite_rebuild}


def rebuild(connection: Any, language: str) -> None:
    """Index every post again, for `language` (e.g. after SEARCH_LANGUAGE changed)."""
    for statement in REBUILD[connection.dialect.name](language):
        connection.execute(text(statement))
    # Searches answer differently now: cached responses must go (SQLite rewrote no post row,
    # so no trigger counted a change).
    bump(connection)


@event.listens_for(Post.__table__, "after_create")
def install_after_create(_target: Any, connection: Any, **_kw: Any) -> None:
    """create_all() builds what the migration builds: the index after the posts table."""
    uninstall(connection)  # a table dropped by drop_all() leaves SQLite's index behind
    install(connection, _language())


def _language() -> str:
    """SEARCH_LANGUAGE of the app in use, English outside one."""
    return current_app.config.get("SEARCH_LANGUAGE", "english") if has_app_context() else "english"
