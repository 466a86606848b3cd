"""An admin's cron empties the trash: `manage.py purge-trash` purges what waited TRASH_DAYS."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, update

from blogapi.db.models import Post, PostRevision, Tag
from blogapi.extensions import db
from blogapi.posts.history import trash
from blogapi.timeutil import utcnow
from tests.support.accounts import Account, sign_up
from tests.support.apps import app_on
from tests.support.cli import cli
from tests.support.databases import fresh_database, manage, suite_admin_url, upgrade
from tests.support.posts import API, new_post


def trashed(client: FlaskClient, account: Account, **fields: Any) -> dict[str, Any]:
    """A draft the account wrote, edited once (two revisions) and moved to the trash."""
    post = new_post(client, account, **fields)
    edited = client.patch(
        f"{API}/posts/{post['id']}", json={"body": "Changed my mind."}, headers=account.headers
    )
    assert edited.status_code == 200, edited.get_json()
    assert client.delete(f"{API}/posts/{post['id']}", headers=account.headers).status_code == 204
    return post


def deleted_ago(app: Flask, post: dict[str, Any], age: timedelta) -> None:
    """Move the post's deletion back in time, as if it had waited in the trash that long."""
    with app.app_context():
        db.session.execute(
            update(Post).where(Post.id == post["id"]).values(deleted_at=utcnow() - age)
        )
        db.session.commit()


def stored(app: Flask) -> tuple[set[str], set[str], dict[str, int]]:
    """The titles of every post (live or in the trash), the tag slugs, and how many revisions
    each title has."""
    with app.app_context():
        titles = set(db.session.scalars(select(Post.title)))
        tags = set(db.session.scalars(select(Tag.slug)))
        counted = (
            select(Post.title, func.count(PostRevision.id))
            .join(PostRevision, PostRevision.post_id == Post.id)
            .group_by(Post.title)
        )
        revisions = {title: count for title, count in db.session.execute(counted)}
        orphans = db.session.scalar(
            select(func.count()).where(PostRevision.post_id.not_in(select(Post.id)))
        )
        db.session.rollback()
    assert orphans == 0
    return titles, tags, revisions


def in_trash(client: FlaskClient, account: Account) -> list[str]:
    """The titles in the account's trash."""
    reply = client.get(f"{API}/trash", headers=account.headers)
    assert reply.status_code == 200, reply.get_json()
    return [item["title"] for item in reply.get_json()["items"]]


def test_purge_trash_purges_only_what_waited_trash_days_and_all_empties_it(
    app, client, runner, author
):
    live = new_post(client, author, title="Live", tags=["shared"])
    long_ago = trashed(client, author, title="Long ago", tags=["shared", "only long ago"])
    deleted_ago(app, long_ago, timedelta(days=45))
    due = trashed(client, author, title="Due today", tags=["only due"])
    deleted_ago(app, due, timedelta(days=30))
    almost = trashed(client, author, title="Almost due", tags=["only almost"])
    deleted_ago(app, almost, timedelta(days=30) - timedelta(hours=1))
    trashed(client, author, title="Just deleted", tags=["shared"])

    result = cli(runner, "purge-trash")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout == "Purged 2 posts in the trash for 30 days or more.\n"
    titles, tags, revisions = stored(app)
    assert titles == {"Live", "Almost due", "Just deleted"}
    # Their revisions went with them, and the tags no other post uses.
    assert revisions == {"Live": 1, "Almost due": 2, "Just deleted": 2}
    assert tags == {"shared", "only-almost"}
    assert sorted(in_trash(client, author)) == ["Almost due", "Just deleted"]

    again = cli(runner, "purge-trash")
    assert again.exit_code == 0
    assert again.stdout == "Purged 0 posts in the trash for 30 days or more.\n"
    assert stored(app)[0] == titles

    emptied = cli(runner, "purge-trash", "--all")
    assert emptied.exit_code == 0
    assert emptied.stdout == "Purged 2 posts from the trash.\n"
    assert stored(app) == ({"Live"}, {"shared"}, {"Live": 1})
    assert in_trash(client, author) == []
    assert client.get(f"{API}/posts/{live['id']}", headers=author.headers).status_code == 200
    assert cli(runner, "purge-trash", "--all").stdout == "Purged 0 posts from the trash.\n"


def test_trash_days_zero_purges_everything_in_the_trash_and_nothing_live(
    app, client, runner, author
):
    app.config["TRASH_DAYS"] = 0
    new_post(client, author, title="Live")
    trashed(client, author, title="Just deleted")
    result = cli(runner, "purge-trash")
    assert result.exit_code == 0
    assert result.stdout == "Purged 1 post in the trash for 0 days or more.\n"
    assert stored(app) == ({"Live"}, set(), {"Live": 1})


def test_a_trash_larger_than_a_batch_is_purged_whole(app, client, runner, author, monkeypatch):
    monkeypatch.setattr(trash, "PURGE_BATCH", 2)  # five posts: three transactions
    for n in range(5):
        trashed(client, author, title=f"Old {n}", tags=[f"tag {n}"])
    new_post(client, author, title="Live", tags=["tag 0"])
    result = cli(runner, "purge-trash", "--all")
    assert result.exit_code == 0
    assert result.stdout == "Purged 5 posts from the trash.\n"
    assert stored(app) == ({"Live"}, {"tag-0"}, {"Live": 1})


@contextmanager
def restored_once_the_batch_is_read(app: Flask, post: dict[str, Any]) -> Iterator[None]:
    """Take the post out of the trash right after purge-trash has read which posts it purges
    (before its next statement), as a restore committed meanwhile would."""
    seen: list[str] = []

    def restore(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if seen == ["batch"]:
            # On the command's own connection: the in-memory SQLite database has no other.
            conn.connection.dbapi_connection.cursor().execute(
                "UPDATE posts SET deleted_at = NULL, deleted_by_id = NULL"
                f" WHERE id = {post['id']:d}"
            )
            seen.append("restored")
        if not seen and statement.startswith("SELECT posts.id"):
            seen.append("batch")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", restore)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", restore)
    assert seen == ["batch", "restored"], "purge-trash never read a batch"


def test_a_post_restored_while_the_purge_runs_stays(app, client, runner, author):
    trashed(client, author, title="Gone", tags=["gone"])
    back = trashed(client, author, title="Back", tags=["back"])
    with restored_once_the_batch_is_read(app, back):
        result = cli(runner, "purge-trash", "--all")
    assert result.exit_code == 0
    assert result.stdout == "Purged 1 post from the trash.\n"
    assert stored(app) == ({"Back"}, {"back"}, {"Back": 2})
    assert client.get(f"{API}/posts/{back['id']}", headers=author.headers).status_code == 200


def test_the_real_command_reads_trash_days_from_the_environment(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        app = app_on(url)
        client = app.test_client()
        writer = sign_up(client, app, "writer", "author")
        new_post(client, writer, title="Live")
        trashed(client, writer, title="Just deleted")
        with app.app_context():
            db.engine.dispose()  # the database is dropped at the end: no open connections

        kept = manage(url, "purge-trash")
        assert (kept.returncode, kept.stderr) == (0, "")
        assert kept.stdout == "Purged 0 posts in the trash for 30 days or more.\n"
        purged = manage(url, "purge-trash", TRASH_DAYS="0")
        assert (purged.returncode, purged.stderr) == (0, "")
        assert purged.stdout == "Purged 1 post in the trash for 0 days or more.\n"
        assert stored(app)[0] == {"Live"}
        with app.app_context():
            db.engine.dispose()


def test_a_database_error_is_one_line_not_a_traceback(tmp_path):
    with fresh_database(tmp_path) as unmigrated:
        result = manage(unmigrated, "purge-trash")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "db upgrade" in result.stderr and "Traceback" not in result.stderr
