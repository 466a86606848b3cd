"""`flask db` (Flask-Migrate), registered without importing it: Flask-Migrate brings alembic,
mako and pygments (about 10 MB per process), and only the migration commands use them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

COMMAND = "db"
# Where an app's migrations are, for what reads them without Flask-Migrate (db/revisions.py).
DIRECTORY_KEY = "blogapi.migrations_directory"


class LazyMigrate:
    """Flask-Migrate's Migrate, made for an app when its `db` commands are first used."""

    def __init__(self, **alembic_ctx_kwargs: Any) -> None:
        self.alembic_ctx_kwargs = alembic_ctx_kwargs

    def init_app(self, app: Flask, db: SQLAlchemy, directory: str) -> None:
        """Register the app's `db` command group; Flask-Migrate is bound when it is used."""
        app.extensions[DIRECTORY_KEY] = directory
        app.cli.add_command(MigrationCommands(lambda: self.bind(app, db, directory)), COMMAND)

    def bind(self, app: Flask, db: SQLAlchemy, directory: str) -> click.Command:
        """Bind Flask-Migrate to the app (as `Migrate(app, db)` does); its `db` command group."""
        from flask_migrate import Migrate

        Migrate(app, db, directory=directory, command=COMMAND, **self.alembic_ctx_kwargs)
        return app.cli.commands[COMMAND]


class MigrationCommands(click.Group):
    """Stands in for Flask-Migrate's `db` group and hands every use to it, loaded on demand."""

    def __init__(self, load: Callable[[], click.Command]) -> None:
        super().__init__(COMMAND)
        self.load = load
        self.loaded: click.Command | None = None

    def real(self) -> click.Command:
        """Flask-Migrate's group, loaded the first time."""
        if self.loaded is None:
            self.loaded = self.load()
        return self.loaded

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """The real group's context, so the real group parses and runs the command."""
        return self.real().make_context(info_name, args, parent, **extra)

    def get_short_help_str(self, limit: int = 45) -> str:
        """The real group's one-line help, for `manage.py --help`."""
        return self.real().get_short_help_str(limit)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The real group's commands."""
        real = self.real()
        return real.list_commands(ctx) if isinstance(real, click.Group) else []

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """One of the real group's commands."""
        real = self.real()
        return real.get_command(ctx, cmd_name) if isinstance(real, click.Group) else None
