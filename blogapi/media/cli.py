"""`manage.py media list|prune|regenerate`: what is stored, files nothing names, new variants."""

from __future__ import annotations

from datetime import datetime, timedelta

import click
import orjson
from flask import current_app
from flask.cli import with_appcontext

from blogapi.accounts.cli import table
from blogapi.accounts.cli_input import user_or_fail
from blogapi.db.commands import AdminCommand, fail, progress
from blogapi.media.maintenance import (
    RegenerateFailed,
    UnknownMedia,
    media_ids,
    media_list,
    prune,
    regenerate,
)
from blogapi.media.schemas import media_schema
from blogapi.media.storage import StorageError


def plural(count: int, word: str) -> str:
    """'1 file', '2 files' ('media' stays as it is)."""
    return f"{count} {word}{'' if count == 1 or word == 'media' else 's'}"


def stamp(when: datetime) -> str:
    """A time as the tables show it, in UTC."""
    return f"{when:%Y-%m-%d %H:%M} UTC"


@click.group("media")
def media_group() -> None:
    """Uploaded images: list them, prune stray files, remake variants."""


@media_group.command("list", cls=AdminCommand)
@click.option("--user", "name", metavar="NAME", help="Only media this user uploaded.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (for scripts).")
@with_appcontext
def list_command(name: str | None, as_json: bool) -> None:
    """List media as a table (or --json).

    One line per media, oldest first: id, uploader, type, size in pixels, file size in bytes,
    when it was uploaded, and the name it was uploaded as. --json prints a JSON array of the
    media as the API describes them. NAME is a username or an email address, in any case.
    """
    media = media_list(user_or_fail(name) if name else None)
    if as_json:
        records = media_schema.dump(media, many=True)
        click.echo(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode())
        return
    rows = [
        [
            str(item.id),
            item.uploader.username,
            item.content_type,
            f"{item.width}x{item.height}",
            str(item.bytes),
            f"{item.created_at:%Y-%m-%d %H:%M}",
            item.filename,
        ]
        for item in media
    ]
    headers = ["ID", "UPLOADER", "TYPE", "PIXELS", "BYTES", "CREATED (UTC)", "FILENAME"]
    click.echo(table(headers, rows))


@media_group.command("prune", cls=AdminCommand)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option(
    "--older-than",
    "minutes",
    type=click.IntRange(min=0),
    default=60,
    show_default=True,
    metavar="MINUTES",
    help="Remove only files stored at least this long ago (younger ones may be uploads in "
    "flight, whose rows are not committed yet).",
)
@with_appcontext
def prune_command(dry_run: bool, minutes: int) -> None:
    """Remove stored files that no media names (cron-friendly).

    Such files are left by a crash between storing an upload's files and recording it, or by
    a removal that failed after a delete. Also checks that every media's files are stored:
    any that are missing are named, and the command exits 1.
    """
    try:
        report = prune(timedelta(minutes=minutes), dry_run=dry_run)
    except StorageError as exc:
        fail(f"media storage: {exc}")
    verb = "Would remove" if dry_run else "Removed"
    for key, when in report.removed:
        click.echo(f"{verb} {key} (stored {stamp(when)})")
    for key, why in report.failed.items():
        click.echo(f"Could not remove {key}: {why}", err=True)
    click.echo(
        f"{verb} {plural(len(report.removed), 'file')} that no media names"
        f"{' (dry run: nothing removed)' if dry_run else ''}; kept "
        f"{plural(report.young, 'such file')} younger than {plural(minutes, 'minute')}; "
        f"{plural(report.named, 'file')} belong to media."
    )
    for media_id, key in report.missing:
        click.echo(f"media {media_id}: file {key} is missing from the storage", err=True)
    problems = []
    if report.missing:
        ids = sorted({media_id for media_id, _key in report.missing})
        problems.append(
            f"files of media {', '.join(map(str, ids))} are missing from the storage "
            "(restore them from a backup)"
        )
    if report.failed:
        problems.append(f"{plural(len(report.failed), 'file')} could not be removed")
    if problems:
        fail("; ".join(problems))


@media_group.command("regenerate", cls=AdminCommand)
@click.option(
    "--id",
    "ids",
    type=click.IntRange(min=1),
    multiple=True,
    metavar="N",
    help="Only the media with this id (repeat for more). Default: every media.",
)
@with_appcontext
def regenerate_command(ids: tuple[int, ...]) -> None:
    """Remake media variants at the current MEDIA_WIDTHS.

    Run it after changing MEDIA_WIDTHS. Each media's variants are made again from its stored
    image and stored under new names; the old files are removed once the media is updated.
    A media that fails (its file missing, the storage down) is named and the others go on;
    the command then exits 1.
    """
    widths = sorted(set(current_app.config["MEDIA_WIDTHS"]))
    try:
        todo = media_ids(ids)
    except UnknownMedia as exc:
        fail(f"no media with id {', '.join(map(str, exc.args[0]))}")
    failed: dict[int, str] = {}
    made = removed = 0
    left: list[str] = []
    with progress(len(todo), "Regenerating variants") as advance:
        for media_id in todo:
            try:
                done = regenerate(media_id, widths)
            except RegenerateFailed as exc:
                failed[media_id] = str(exc)
            else:
                made += len(done.widths)
                removed += done.removed
                left.extend(done.left)
            advance(1)
    for media_id, why in failed.items():
        click.echo(f"media {media_id}: {why}", err=True)
    if left:
        click.echo(
            f"Left {plural(len(left), 'old file')} that could not be removed, for "
            f"`media prune`: {', '.join(left)}",
            err=True,
        )
    click.echo(
        f"Regenerated the variants of {plural(len(todo) - len(failed), 'media')} at widths "
        f"{', '.join(map(str, widths)) or '(none)'}: {plural(made, 'new file')}, "
        f"{plural(removed, 'old file')} removed."
    )
    if failed:
        fail(
            f"{plural(len(failed), 'media')} could not be regenerated "
            f"(ids {', '.join(map(str, failed))})"
        )


COMMANDS = [media_group]
