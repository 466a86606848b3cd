"""What every admin command shares: database errors in one line, failures, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a missing table


class AdminCommand(click.Command):
    """A command whose database failures end in one line on stderr, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn a database error into exit 1 with a message."""
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            raise click.ClickException(database_problem(exc)) from None


def admin_command(name: str, **attrs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """Declare an admin command: it runs in the app context and reports errors in one line."""

    def decorator(function: Callable[..., Any]) -> click.Command:
        return click.command(name, cls=AdminCommand, **attrs)(with_appcontext(function))

    return decorator


def database_problem(error: DBAPIError) -> str:
    """One line saying what went wrong with the database, and what to do when we know."""
    detail = (str(error.orig or error).strip().splitlines() or ["unknown error"])[0]
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == UNDEFINED_TABLE or "no such table" in detail:
        return f"the database has no blogapi tables ({detail}); run `manage.py db upgrade` first"
    return f"database error: {detail}"


def fail(message: str) -> NoReturn:
    """Exit 1 with a one-line message on stderr."""
    raise click.ClickException(message)


@contextmanager
def progress(
    total: int, label: str, stream: TextIO | None = None
) -> Iterator[Callable[[int], None]]:
    """A progress bar on `stream` (stdout) when it is a terminal; elsewhere it stays silent."""
    stream = stream or sys.stdout
    if total <= 0 or not stream.isatty():
        yield lambda _n: None
        return
    with click.progressbar(length=total, label=label, file=stream) as bar:
        yield bar.update
