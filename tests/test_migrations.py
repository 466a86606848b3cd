"""The migrations build the schema from nothing, take it down, build it again, and match the models.

On whichever database the suite runs: SQLite, or a new database on its PostgreSQL server.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from blogapi.extensions import db, migrate
from blogapi.posts.revisions.storage import content_of, find_revision
from devtools.live import ROOT
from tests.support.apps import app_on, dispose
from tests.support.databases import fresh_database, manage, suite_admin_url, upgrade
from tests.support.posts import API

TABLES = {
    "content_version",
    "users",
    "tags",
    "posts",
    "post_tags",
    "post_revisions",
    "post_slugs",
    "media",
    "personal_tokens",
    "authorization_codes",
    "revoked_tokens",
    "account_tokens",
    "webhooks",
    "webhook_events",
    "webhook_deliveries",
    "webhook_attempts",
    "mail_outbox",
    "alembic_version",
}
WEBHOOK_TABLES = {"webhooks", "webhook_events", "webhook_deliveries", "webhook_attempts"}
MAIL_TABLES = {"mail_outbox"}
# Tables of migrations after the ones the data tests below go back to.
LATER_TABLES = WEBHOOK_TABLES | MAIL_TABLES | {"account_tokens"}
# SQLite's full-text index: the FTS5 table and the shadow tables FTS5 keeps its data in.
FTS5_PARTS = ("", "_data", "_idx", "_docsize", "_config")
SEARCH_TABLES = {"sqlite": {f"posts_fts{part}" for part in FTS5_PARTS}}


def tables_of(url: str) -> set[str]:
    """The tables a migrated database at url has."""
    return TABLES | SEARCH_TABLES.get(url.split(":")[0].split("+")[0], set())


def schema(url: str) -> tuple[set[str], list[str]]:
    """The tables the database at url has, and the revisions alembic_version records."""
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if "alembic_version" not in tables:
            return tables, []
        with engine.connect() as conn:
            return tables, list(conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision in migrations/versions."""
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def test_upgrade_from_empty_then_downgrade_to_base_then_upgrade_again(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        assert schema(url) == (set(), [])
        upgrade(url)
        assert schema(url) == (tables_of(url), [head()])
        down = manage(url, "db", "downgrade", "base")
        assert down.returncode == 0, down.stderr
        assert schema(url) == ({"alembic_version"}, [])
        upgrade(url)
        assert schema(url) == (tables_of(url), [head()])
        current = manage(url, "db", "current")
        assert current.stdout.strip() == f"{head()} (head)"


def test_the_models_and_the_migrations_agree(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts=migrate.alembic_ctx_kwargs)
                differences = compare_metadata(context, db.metadata)
        finally:
            engine.dispose()
        assert differences == []
        check = manage(url, "db", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr


def add_author_ada(conn) -> None:
    """User 1, ada, an author: who wrote the posts a migration story stores by hand."""
    conn.execute(
        text(
            "INSERT INTO users (id, username, username_key, email, email_key, "
            "password_hash, display_name, bio, role, active, token_version, "
            "created_at, updated_at) VALUES (1, 'ada', 'ada', 'ada@example.com', "
            "'ada@example.com', 'x', '', '', 'author', true, 1, :t, :t)"
        ),
        {"t": "2026-01-01 00:00:00"},
    )


def test_stored_tags_get_post_spellings_symbol_slugs_and_lose_orphans(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        before = manage(url, "db", "upgrade", "0ccbcdfac88f")  # tags as the old rule stored them
        assert before.returncode == 0, before.stderr
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                add_author_ada(conn)
                for post_id in (1, 2):
                    conn.execute(
                        text(
                            "INSERT INTO posts (id, slug, title, summary, body, body_html, "
                            "author_id, created_at, updated_at, version) VALUES "
                            "(:id, :slug, 't', '', 'b', '<p>b</p>', 1, :t, :t, 1)"
                        ),
                        {"id": post_id, "slug": f"p{post_id}", "t": "2026-01-01 00:00:00"},
                    )
                tags = [
                    (1, "C++", "c"),  # the old rule: C++ took "c"
                    (2, "F#", "f"),
                    (3, "F sharp", "f-sharp"),  # holds F#'s new slug: F# keeps "f"
                    (4, "Forgotten", "forgotten"),  # no post uses it
                ]
                for tag_id, name, slug in tags:
                    conn.execute(
                        text("INSERT INTO tags (id, name, slug) VALUES (:id, :name, :slug)"),
                        {"id": tag_id, "name": name, "slug": slug},
                    )
                for post_id, tag_id in ((1, 1), (2, 1), (1, 2), (2, 3)):
                    conn.execute(
                        text("INSERT INTO post_tags (post_id, tag_id) VALUES (:p, :t)"),
                        {"p": post_id, "t": tag_id},
                    )
            upgrade(url)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT id, name, slug FROM tags ORDER BY id")).all()
                links = conn.execute(
                    text("SELECT post_id, tag_id, name FROM post_tags ORDER BY post_id, tag_id")
                ).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in stored] == [
            (1, "C++", "c-plus-plus"),
            (2, "F#", "f"),
            (3, "F sharp", "f-sharp"),
        ]
        assert [tuple(row) for row in links] == [
            (1, 1, "C++"),
            (1, 2, "F#"),
            (2, 1, "C++"),
            (2, 3, "F sharp"),
        ]


SEARCH_PARENT = "dd9e472bfd3b"  # the revision before full-text search
# Posts as the revision before search stored them: Markdown rendered to HTML, markup and all.
OLD_POSTS = [
    (
        1,
        "sourdough-notes",
        "Sourdough notes",
        "<p>Proof the <strong>dough</strong> overnight &amp; bake at <em>dawn</em>.</p>"
        "<ul>\n<li>flour</li>\n<li>water</li>\n</ul>",
    ),
    (
        2,
        "why-c-plus-plus",
        "Why C++",
        '<p>Templates <a href="https://example.com/a">all the way</a> down.</p>',
    ),
]


def search_index(url: str) -> dict[str, Any]:
    """What of the search index a database has: posts' columns, indexes, FTS5 tables and
    triggers (SQLite), text search configurations (PostgreSQL)."""
    engine = create_engine(url)
    try:
        found = inspect(engine)
        columns = {column["name"] for column in found.get_columns("posts")}
        index: dict[str, Any] = {
            "columns": columns & {"body_text", "tag_names", "search_vector"},
            "indexes": {i["name"] for i in found.get_indexes("posts")} & {"ix_posts_search"},
            "tables": {name for name in found.get_table_names() if name.startswith("posts_fts")},
        }
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                triggers = conn.scalars(text(query))
                index["other"] = {name for name in triggers if name.startswith("posts_fts")}
            else:
                query = "SELECT cfgname FROM pg_ts_config WHERE cfgname = 'blogapi_search'"
                index["other"] = set(conn.scalars(text(query)))
        return index
    finally:
        engine.dispose()


def found_by_search(url: str, *queries: str) -> dict[str, list[str]]:
    """The slugs a reader's search finds for each query, through an app on the database."""
    app = app_on(url)
    try:
        client = app.test_client()
        found = {}
        for query in queries:
            response = client.get(f"{API}/posts", query_string={"q": query})
            assert response.status_code == 200, response.get_json()
            found[query] = [item["slug"] for item in response.get_json()["items"]]
        return found
    finally:
        dispose(app)


def test_posts_written_before_search_are_found_after_the_migration_and_it_goes_down_clean(
    tmp_path,
):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        before = manage(url, "db", "upgrade", SEARCH_PARENT)  # the schema before search
        assert before.returncode == 0, before.stderr
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                add_author_ada(conn)
                for post_id, slug, title, body_html in OLD_POSTS:
                    conn.execute(
                        text(
                            "INSERT INTO posts (id, slug, title, summary, body, body_html, "
                            "author_id, created_at, updated_at, published_at, version) VALUES "
                            "(:id, :slug, :title, '', 'markdown', :html, 1, :t, :t, :t, 1)"
                        ),
                        {"id": post_id, "slug": slug, "title": title, "html": body_html}
                        | {"t": "2026-01-01 00:00:00"},
                    )
                conn.execute(
                    text(
                        "INSERT INTO tags (id, name, slug) VALUES (1, 'Baking Tips', 'baking-tips')"
                    )
                )
                conn.execute(
                    text("INSERT INTO tags (id, name, slug) VALUES (2, 'C++', 'c-plus-plus')")
                )
                for post_id, tag_id, name in ((1, 1, "Baking Tips"), (1, 2, "C++"), (2, 2, "C++")):
                    conn.execute(
                        text("INSERT INTO post_tags (post_id, tag_id, name) VALUES (:p, :t, :n)"),
                        {"p": post_id, "t": tag_id, "n": name},
                    )
            upgrade(url)
            with engine.connect() as conn:
                stored = conn.execute(
                    text("SELECT id, body_text, tag_names FROM posts ORDER BY id")
                ).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in stored] == [
            (1, "Proof the dough overnight & bake at dawn. flour water", "Baking Tips C++"),
            (2, "Templates all the way down.", "C++"),
        ]
        searches = {
            "doughs": ["sourdough-notes"],  # body, stemmed
            "dawn -templates": ["sourdough-notes"],
            "sourdough": ["sourdough-notes"],  # title
            "baking": ["sourdough-notes"],  # tag
            "templates": ["why-c-plus-plus"],
            "strong": [],  # markup is not text
            "amp": [],
        }
        assert found_by_search(url, *searches) == searches
        built = search_index(url)
        assert built["columns"] >= {"body_text", "tag_names"} and built["other"]

        down = manage(url, "db", "downgrade", SEARCH_PARENT)
        assert down.returncode == 0, down.stderr
        assert search_index(url) == {
            "columns": set(),
            "indexes": set(),
            "tables": set(),
            "other": set(),
        }
        assert schema(url) == (
            TABLES
            - {"post_revisions", "media", "post_slugs", "personal_tokens", "authorization_codes"}
            - LATER_TABLES,
            [SEARCH_PARENT],
        )

        upgrade(url)
        assert search_index(url) == built
        assert found_by_search(url, *searches) == searches


HISTORY_PARENT = "7c1e4f2a9b3d"  # the schema before revisions and the trash


def test_posts_written_before_revisions_get_their_first_and_the_trash_goes_down_with_it(
    tmp_path,
):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        before = manage(url, "db", "upgrade", HISTORY_PARENT)
        assert before.returncode == 0, before.stderr
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                add_author_ada(conn)
                for post_id, slug in ((1, "kept"), (2, "trashed")):
                    conn.execute(
                        text(
                            "INSERT INTO posts (id, slug, title, summary, body, body_html, "
                            "author_id, created_at, updated_at, published_at, version) VALUES "
                            "(:id, :slug, :title, 'S', :body, '', 1, :c, :u, NULL, 1)"
                        ),
                        {"id": post_id, "slug": slug, "title": slug.title(), "body": f"{slug}!"}
                        | {"c": "2026-01-01 00:00:00", "u": "2026-01-02 00:00:00"},
                    )
                conn.execute(
                    text("INSERT INTO tags (id, name, slug) VALUES (1, 'C++', 'c-plus-plus')")
                )
                conn.execute(
                    text("INSERT INTO post_tags (post_id, tag_id, name) VALUES (2, 1, 'C++')")
                )
            upgrade(url)
            app = app_on(url)
            try:
                with app.app_context():
                    firsts = {post_id: content_of(find_revision(post_id, 1)) for post_id in (1, 2)}
                    created = find_revision(2, 1).created_at
            finally:
                dispose(app)
            assert firsts == {
                1: {"title": "Kept", "slug": "kept", "summary": "S", "body": "kept!", "tags": {}},
                2: {
                    "title": "Trashed",
                    "slug": "trashed",
                    "summary": "S",
                    "body": "trashed!",
                    "tags": {"c-plus-plus": "C++"},
                },
            }
            assert created.isoformat() == "2026-01-02T00:00:00+00:00"
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE posts SET deleted_at = :t, deleted_by_id = 1 WHERE id = 2"),
                    {"t": "2026-02-01 00:00:00"},
                )
            down = manage(url, "db", "downgrade", HISTORY_PARENT)
            assert down.returncode == 0, down.stderr
            assert schema(url) == (
                tables_of(url)
                - {
                    "post_revisions",
                    "media",
                    "post_slugs",
                    "personal_tokens",
                    "authorization_codes",
                }
                - LATER_TABLES,
                [HISTORY_PARENT],
            )
            with engine.connect() as conn:
                assert conn.execute(text("SELECT id FROM posts")).all() == [(1,)]
                assert conn.execute(text("SELECT count(*) FROM tags")).scalar() == 0
        finally:
            engine.dispose()


MEDIA_PARENT = "5e2d8a41c7b9"  # the schema before media


def test_posts_written_before_media_have_no_feature_image_and_media_goes_down_clean(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        before = manage(url, "db", "upgrade", MEDIA_PARENT)
        assert before.returncode == 0, before.stderr
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                add_author_ada(conn)
                conn.execute(
                    text(
                        "INSERT INTO posts (id, slug, title, summary, body, body_html, "
                        "author_id, created_at, updated_at, published_at, version) VALUES "
                        "(1, 'old', 'Old', '', 'Old words.', '', 1, :t, :t, :t, 1)"
                    ),
                    {"t": "2026-01-01 00:00:00"},
                )
            upgrade(url)
            with engine.begin() as conn:
                assert conn.execute(text("SELECT feature_image_id FROM posts")).all() == [(None,)]
                conn.execute(
                    text(
                        "INSERT INTO media (id, uploader_id, source_sha256, sha256, key, "
                        "content_type, width, height, bytes, filename, alt, variants, created_at)"
                        " VALUES (1, 1, 'a', 'b', :key, 'image/png', 1, 1, 1, 'x.png', '', '[]',"
                        " :t)"
                    ),
                    {"key": "0" * 32 + ".png", "t": "2026-01-02 00:00:00"},
                )
                conn.execute(text("UPDATE posts SET feature_image_id = 1"))

            def version() -> int:
                with engine.connect() as conn:
                    return conn.execute(text("SELECT value FROM content_version")).scalar_one()

            seen = version()
            with engine.begin() as conn:  # readers see the alt text: caches must hear of it
                conn.execute(text("UPDATE media SET alt = 'A cover'"))
            assert version() > seen
            seen = version()
            with engine.begin() as conn:  # the variants are not shown with posts
                conn.execute(text("UPDATE media SET variants = '[]'"))
            assert version() == seen
            down = manage(url, "db", "downgrade", MEDIA_PARENT)
            assert down.returncode == 0, down.stderr
            assert schema(url) == (
                tables_of(url)
                - {"media", "post_slugs", "personal_tokens", "authorization_codes"}
                - LATER_TABLES,
                [MEDIA_PARENT],
            )
            with engine.connect() as conn:
                assert conn.execute(text("SELECT id, title FROM posts")).all() == [(1, "Old")]
            upgrade(url)
        finally:
            engine.dispose()


SLUGS_PARENT = "a41f6c2e9b17"  # the schema before old slugs


def test_slugs_posts_gave_up_before_the_migration_become_their_old_slugs(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        before = manage(url, "db", "upgrade", SLUGS_PARENT)
        assert before.returncode == 0, before.stderr
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                add_author_ada(conn)
                # Post 1 was "first", then "second", and is "third" now; post 2 took "first"
                # over later, and post 3 once was "second" too, before post 1.
                for post_id, slug in ((1, "third"), (2, "first"), (3, "elsewhere")):
                    conn.execute(
                        text(
                            "INSERT INTO posts (id, slug, title, summary, body, body_html, "
                            "author_id, created_at, updated_at, published_at, version) VALUES "
                            "(:id, :slug, 'T', '', 'B', '', 1, :t, :t, :t, 1)"
                        ),
                        {"id": post_id, "slug": slug, "t": "2026-01-01 00:00:00"},
                    )
                revisions = [
                    (1, 1, "first", "2026-01-01"),
                    (3, 1, "second", "2026-01-02"),
                    (1, 2, "second", "2026-01-03"),
                    (1, 3, "third", "2026-01-04"),
                    (2, 1, "first", "2026-01-05"),
                    (3, 2, "elsewhere", "2026-01-06"),
                ]
                for post_id, number, slug, day in revisions:
                    conn.execute(
                        text(
                            "INSERT INTO post_revisions (post_id, number, created_at, author_id,"
                            " title, slug, summary, tags, keyframe, body_data) VALUES "
                            "(:post, :number, :t, 1, 'T', :slug, '', '[]', NULL, :body)"
                        ),
                        {"post": post_id, "number": number, "slug": slug}
                        | {"t": f"{day} 00:00:00", "body": b"B"},
                    )
            upgrade(url)
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT slug, post_id FROM post_slugs ORDER BY slug"))
                assert rows.all() == [("second", 1)]
            down = manage(url, "db", "downgrade", SLUGS_PARENT)
            assert down.returncode == 0, down.stderr
            assert schema(url) == (
                tables_of(url)
                - {"post_slugs", "personal_tokens", "authorization_codes"}
                - LATER_TABLES,
                [SLUGS_PARENT],
            )
        finally:
            engine.dispose()


STAMP_PARENT = "b7e3d91c4a26"  # the schema before content_version kept its time


def test_each_change_readers_see_stamps_its_time_bios_count_and_it_goes_down_clean(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        engine = create_engine(url)

        def version() -> tuple[int, Any]:
            with engine.connect() as conn:
                query = text("SELECT value, changed_at FROM content_version")
                return tuple(conn.execute(query).one())  # type: ignore[return-value]

        try:
            assert version() == (0, None)
            with engine.begin() as conn:
                add_author_ada(conn)
            value, stamped = version()
            assert value == 0 and stamped is None  # a new account is nothing readers see
            with engine.begin() as conn:
                conn.execute(text("UPDATE users SET display_name = 'Ada L.'"))
            value, stamped = version()
            assert value == 1 and stamped is not None
            with engine.begin() as conn:  # an author's page shows the bio
                conn.execute(text("UPDATE users SET bio = 'Counts engines.'"))
            assert version()[0] == 2 and version()[1] >= stamped
            down = manage(url, "db", "downgrade", STAMP_PARENT)
            assert down.returncode == 0, down.stderr
            with engine.begin() as conn:
                conn.execute(text("UPDATE users SET display_name = 'Ada'"))
                conn.execute(text("UPDATE users SET bio = 'As before.'"))
                assert conn.execute(text("SELECT value FROM content_version")).scalar() == 3
                assert "changed_at" not in {
                    c["name"] for c in inspect(conn).get_columns("content_version")
                }
            upgrade(url)
            with engine.begin() as conn:
                conn.execute(text("UPDATE users SET display_name = 'Ada Lovelace'"))
            assert version()[0] == 4 and version()[1] is not None
        finally:
            engine.dispose()
