"""Admin commands for `python manage.py …` (and `flask --app blogapi …`)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from marshmallow import ValidationError

from blogapi.errors import ApiError
from blogapi.roles import ROLES
from blogapi.schemas.users import register_schema
from blogapi.services.accounts import create_user


def read_password(from_stdin: bool) -> str:
    """A password from one line of stdin, or a hidden prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: no password on standard input.")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def fail(message: str) -> None:
    """Exit 1 with a one-line message on stderr."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.command("create-user")
@click.argument("name")
@click.option("--email", required=True, help="The user's email address.")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="author",
    show_default=True,
    help="What the user may do.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)
@with_appcontext
def create_user_command(name: str, email: str, role: str, password_stdin: bool) -> None:
    """Create a user NAME (the first admin, for example)."""
    password = read_password(password_stdin)
    try:
        data = register_schema.load({"username": name, "email": email, "password": password})
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.messages.items())
        raise click.UsageError(problems) from None
    try:
        user = create_user(data["username"], data["email"], data["password"], role=role)
    except ApiError as exc:
        fail(f"{exc.detail} ({', '.join(exc.errors or {})})")
    click.echo(f"Created {role} {user.username} <{user.email}>.")


def init_app(app: Flask) -> None:
    """Register the admin commands on the app's CLI."""
    app.cli.add_command(create_user_command)
