"""`manage.py search reindex`: index every post again, after SEARCH_LANGUAGE changed."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from blogapi.db.commands import AdminCommand
from blogapi.db.models import Post
from blogapi.extensions import db
from blogapi.posts.search.schema import rebuild


@click.group("search")
def search_group() -> None:
    """Full-text search over posts."""


@search_group.command("reindex", cls=AdminCommand)
@with_appcontext
def reindex_command() -> None:
    """Index every post again, in SEARCH_LANGUAGE.

    Run it after changing SEARCH_LANGUAGE (stemming and stop words follow the language the
    index was built in until then). One transaction: search answers from the old index until
    it commits, and nothing changes if it fails.
    """
    language = current_app.config["SEARCH_LANGUAGE"]
    started = time.monotonic()
    try:
        rebuild(db.session.connection(), language)
        count = db.session.scalar(select(func.count()).select_from(Post)) or 0
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    click.echo(
        f"Indexed {count} posts for search in {language} in {time.monotonic() - started:.1f}s."
    )


COMMANDS = [search_group]
