"""Admin commands for `python manage.py …` (and `flask --app blogapi …`)."""

from __future__ import annotations

from flask import Flask

from blogapi.cli import backup, seed, tokens, users


def init_app(app: Flask) -> None:
    """Register the admin commands on the app's CLI."""
    for module in (users, tokens, seed, backup):
        for command in module.COMMANDS:
            app.cli.add_command(command)
