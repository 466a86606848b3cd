"""`manage.py purge-trash`: delete for good the posts in the trash longer than TRASH_DAYS."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app

from blogapi.db.commands import admin_command
from blogapi.extensions import db
from blogapi.posts.history.trash import purge_expired
from blogapi.timeutil import utcnow


@admin_command("purge-trash")
@click.option("--all", "everything", is_flag=True, help="Empty the whole trash now.")
def purge_trash_command(everything: bool) -> None:
    """Delete for good the posts in the trash for TRASH_DAYS days or more (cron-friendly).

    Their revisions go with them, and tags no other post uses. Each batch of posts is one
    transaction, so a stopped run leaves whole posts, and the next run goes on.
    """
    days: int = current_app.config["TRASH_DAYS"]
    try:
        purged = purge_expired(None if everything else timedelta(days=days), utcnow())
    except BaseException:
        db.session.rollback()
        raise
    which = "from the trash" if everything else f"in the trash for {days} days or more"
    click.echo(f"Purged {purged} post{'' if purged == 1 else 's'} {which}.")


COMMANDS = (purge_trash_command,)
