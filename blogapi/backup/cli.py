"""The export and import commands: the whole database as JSON Lines, and back."""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

import click

from blogapi.backup.export import describe, export_database
from blogapi.backup.files import ExportProblem
from blogapi.backup.restore import ImportProblem, import_database
from blogapi.backup.webhook_secrets import unreadable_secrets
from blogapi.db.commands import admin_command, fail, progress

FILE_HELP = (
    "The file is JSON Lines: a header, then one user, tag, media, media file (base64), post, "
    "revision, revoked token, personal access token, webhook, pending webhook event or "
    "pending webhook delivery per line, each with its type and format version. A FILE "
    "ending in .gz is compressed."
)


@admin_command("export", epilog=FILE_HELP)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
def export_command(file: str) -> None:
    """Write the whole database to a JSON Lines FILE.

    Every user (with password hash), tag, media item with its files (read from the media
    storage), post (those in the trash too), revision, revoked and personal access token, and
    webhook goes to FILE, or to standard output when FILE is "-", with the webhook events not
    yet delivered (scheduled go-lives too) and their pending deliveries; delivered and failed
    ones and the log of attempts stay behind. Webhook secrets stay encrypted with SECRET_KEY:
    they work after an import on an instance with the same SECRET_KEY. The export is one
    consistent snapshot, taken while the API keeps running; `import` loads it into an empty
    database on SQLite or PostgreSQL. It holds password hashes: the file is created readable
    by its owner only.
    """
    started = time.monotonic()
    try:
        if file == "-":
            counts = export_database(
                sys.stdout.buffer, lambda n: progress(n, "Exporting", sys.stderr)
            )
        else:
            try:
                with atomic_output(Path(file)) as out:
                    counts = export_database(out, lambda n: progress(n, "Exporting"))
            except OSError as exc:
                fail(f"cannot write {file}: {exc.strerror or exc}")
    except ExportProblem as exc:
        fail(f"cannot export: {sentence(str(exc))}")
    click.echo(
        f"Exported {describe(counts)} to {'standard output' if file == '-' else file} "
        f"in {time.monotonic() - started:.1f}s.",
        err=file == "-",
    )


@admin_command("import", epilog=FILE_HELP)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def import_command(file: str) -> None:
    """Load an export FILE into an empty database.

    Reproduces every user, login, tag, media item, post and webhook exactly, ids and media
    keys included, with each post's revisions and the trash, and stores the media files in this
    site's media storage (MEDIA_STORAGE); the worker then sends the pending webhook events,
    with the ids they had. FILE "-" reads standard input. Every record is
    checked; the first bad one is named by its line and nothing is imported (files already
    stored are removed again). Run `manage.py db upgrade` on the new database first.
    """
    started = time.monotonic()
    try:
        with open_input(file) as lines:
            counts = import_database(lines, lambda n: progress(n, "Importing"))
    except ImportProblem as exc:
        fail(f"{file}: {sentence(str(exc))} Nothing was imported.")
    except (OSError, EOFError) as exc:
        fail(f"cannot read {file}: {sentence(str(exc))} Nothing was imported.")
    click.echo(f"Imported {describe(counts)} from {file} in {time.monotonic() - started:.1f}s.")
    unreadable = unreadable_secrets()
    if unreadable:
        click.echo(
            f"Warning: {unreadable} webhook secrets cannot be read with this SECRET_KEY (not "
            "the exporting instance's): recreate those webhooks.",
            err=True,
        )


def sentence(text: str) -> str:
    """Text ending in a full stop."""
    return text if text.endswith(".") else f"{text}."


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A file that appears at `path` only once completely written, readable by its owner."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as raw:
            if path.suffix == ".gz":
                with gzip.GzipFile(fileobj=raw, mode="wb") as compressed:
                    yield cast(IO[bytes], compressed)  # typeshed: a BufferedIOBase, not IO
            else:
                yield raw
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


@contextmanager
def open_input(file: str) -> Iterator[IO[bytes]]:
    """The export to read: stdin for "-", decompressed when it ends in .gz."""
    if file == "-":
        yield sys.stdin.buffer
    elif file.endswith(".gz"):
        with gzip.open(file, "rb") as lines:
            yield cast(IO[bytes], lines)  # typeshed: a GzipFile is a BufferedIOBase, not IO
    else:
        with open(file, "rb") as lines:
            yield lines


COMMANDS = [export_command, import_command]
