"""Admin commands for `python manage.py …` (and `flask --app blogapi …`), from every feature."""

from __future__ import annotations

from flask import Flask

from blogapi.accounts import cli as account_commands
from blogapi.accounts import tokens_cli as token_commands
from blogapi.backup import cli as backup_commands
from blogapi.backup import seed_cli as seed_commands
from blogapi.mail import cli as mail_commands
from blogapi.media import cli as media_commands
from blogapi.posts.history import cli as history_commands
from blogapi.posts.search import cli as search_commands
from blogapi.webhooks import cli as webhook_commands

FEATURES = (
    account_commands,
    token_commands,
    seed_commands,
    backup_commands,
    search_commands,
    history_commands,
    media_commands,
    webhook_commands,
    mail_commands,
)


def init_app(app: Flask) -> None:
    """Register the admin commands on the app's CLI."""
    for module in FEATURES:
        for command in module.COMMANDS:
            app.cli.add_command(command)
