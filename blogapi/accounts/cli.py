"""Admin commands for accounts: create, change role, reset password, (de)activate, list."""

from __future__ import annotations

import click
import orjson
from marshmallow import ValidationError
from sqlalchemy import select

from blogapi.accounts.cli_input import (
    password_stdin_option,
    read_new_password,
    read_password,
    user_or_fail,
)
from blogapi.accounts.schemas import private_user_schema, register_schema
from blogapi.accounts.service import change_account, create_user, reset_password
from blogapi.db.commands import admin_command, fail
from blogapi.db.models import User
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.security.roles import ROLES
from blogapi.web.errors import ApiError

NAME_HELP = "NAME is a username or an email address, in any case."
PASSWORD_HELP = "Passwords are never taken as arguments, where other users could see them."


def a_role(role: str) -> str:
    """'an admin', 'a contributor'."""
    return f"{'an' if role[0] in 'aeiou' else 'a'} {role}"


def change_or_fail(user: User, changes: dict[str, object]) -> None:
    """Apply an admin's change through the rule the API uses; exit 1 when it refuses."""
    try:
        change_account(user, changes)
    except ApiError as exc:
        fail(exc.detail.rstrip("."))


def taken_message(exc: ApiError, data: dict[str, str]) -> str:
    """The refusal as "username 'dana' is taken", for each field it names (else its detail)."""
    taken = [field for field in ("username", "email") if field in (exc.errors or {})]
    if not taken:
        return exc.detail.rstrip(".")
    return "; ".join(f"{field} {data[field]!r} is taken" for field in taken)


@admin_command("create-user", epilog=PASSWORD_HELP)
@click.argument("name")
@click.option("--email", required=True, help="The user's email address.")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default="author",
    show_default=True,
    help="What the user may do.",
)
@password_stdin_option("the")
def create_user_command(name: str, email: str, role: str, password_stdin: bool) -> None:
    """Create a user NAME (the first admin, for example)."""
    password = read_password(password_stdin)
    try:
        data = register_schema.load({"username": name, "email": email, "password": password})
    except ValidationError as exc:
        problems = "; ".join(
            f"{field}: {' '.join(msgs)}" for field, msgs in exc.messages_dict.items()
        )
        raise click.UsageError(problems) from None
    try:
        user = create_user(
            data["username"], data["email"], data["password"], role=role, verified=True
        )
    except ApiError as exc:
        fail(taken_message(exc, data))
    audit("user_created", user=user, role=role)
    click.echo(f"Created {role} {user.username} <{user.email}>.")


@admin_command("set-role", epilog=NAME_HELP)
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES), metavar="ROLE")
def set_role_command(name: str, role: str) -> None:
    """Change a user's role.

    Gives user NAME the ROLE: contributor (writes drafts), author (publishes own posts),
    editor (edits and publishes anyone's) or admin (also manages users). The last active
    admin keeps the role until another user is made admin.
    """
    user = user_or_fail(name)
    if user.role == role:
        click.echo(f"{user.username} is already {a_role(role)}.")
        return
    old = user.role
    change_or_fail(user, {"role": role})
    click.echo(f"{user.username} is now {a_role(role)} (was {a_role(old)}).")


@admin_command("reset-password", epilog=f"{NAME_HELP} {PASSWORD_HELP}")
@click.argument("name")
@password_stdin_option("the new")
def reset_password_command(name: str, password_stdin: bool) -> None:
    """Set a user's password and revoke their tokens.

    Asks for the new password of user NAME twice (or reads it from --password-stdin),
    checks it against the password policy, and logs the user out everywhere.
    """
    user = user_or_fail(name)
    reset_password(user, read_new_password(password_stdin, user.username, user.email))
    click.echo(f"Set a new password for {user.username}; their tokens are revoked.")


@admin_command("deactivate", epilog=NAME_HELP)
@click.argument("name")
def deactivate_command(name: str) -> None:
    """Stop a user logging in and revoke their tokens.

    User NAME keeps their posts and can be let in again with `activate`. The last active
    admin cannot be deactivated.
    """
    user = user_or_fail(name)
    if not user.active:
        click.echo(f"{user.username} is already deactivated.")
        return
    change_or_fail(user, {"active": False})
    click.echo(f"Deactivated {user.username}; their tokens are revoked.")


@admin_command("activate", epilog=NAME_HELP)
@click.argument("name")
def activate_command(name: str) -> None:
    """Let a deactivated user log in again.

    User NAME must log in afresh: tokens revoked by `deactivate` stay revoked.
    """
    user = user_or_fail(name)
    if user.active:
        click.echo(f"{user.username} is already active.")
        return
    change_or_fail(user, {"active": True})
    click.echo(f"Activated {user.username}.")


@admin_command("list-users")
@click.option("--role", type=click.Choice(ROLES), help="Only users with this role.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (for scripts).")
def list_users_command(role: str | None, as_json: bool) -> None:
    """List users as a table (or --json).

    One line per user, oldest first: username, email, role, whether they may log in, and
    when the account was created. --json prints a JSON array for scripts instead.
    """
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == role)
    users = db.session.scalars(query).all()
    if as_json:
        records = private_user_schema.dump(users, many=True)
        click.echo(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode())
        return
    rows = [
        [u.username, u.email, u.role, "yes" if u.active else "no", f"{u.created_at:%Y-%m-%d %H:%M}"]
        for u in users
    ]
    click.echo(table(["USERNAME", "EMAIL", "ROLE", "ACTIVE", "CREATED (UTC)"], rows))


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to line up, two spaces apart."""
    widths = [max(map(len, column)) for column in zip(headers, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    )


COMMANDS = [
    create_user_command,
    set_role_command,
    reset_password_command,
    deactivate_command,
    activate_command,
    list_users_command,
]
