"""Admin commands for tokens: revoke a user's, purge dead records, list and revoke personal ones."""

from __future__ import annotations

import click
import orjson
from flask import current_app
from flask.cli import with_appcontext

from blogapi.accounts.cli import table
from blogapi.accounts.cli_input import user_or_fail
from blogapi.accounts.personal_tokens import (
    find_token,
    live_tokens,
    purge_dead_tokens,
    revoke_token,
)
from blogapi.accounts.schemas import token_json
from blogapi.accounts.sessions import revoke_all_tokens
from blogapi.db.commands import AdminCommand, admin_command, fail
from blogapi.security.revocation import purge_expired_revocations


@admin_command("revoke-tokens", epilog="NAME is a username or an email address, in any case.")
@click.argument("name")
def revoke_tokens_command(name: str) -> None:
    """Log a user out everywhere (revoke all tokens).

    Every access and refresh token user NAME holds stops working at once, and so does every
    personal access token; their password is unchanged, so they can log in again.
    """
    user = user_or_fail(name)
    revoke_all_tokens(user)
    click.echo(f"Revoked every token of {user.username}; they must log in again.")


@admin_command("purge-tokens")
def purge_tokens_command() -> None:
    """Delete records of tokens that can no longer be used.

    A revoked token's record is only needed until the token expires, and a personal access
    token that expired or was revoked with all of its user's tokens can never work again;
    this keeps the tables small. Safe to run at any time, for example daily from cron.
    """
    purged, remaining = purge_expired_revocations(current_app.config.get("JWT_DECODE_LEEWAY", 0))
    dead = purge_dead_tokens()
    click.echo(f"Purged {purged} expired token revocation(s); kept {remaining} not yet expired.")
    click.echo(f"Purged {dead} expired or revoked personal access token(s).")


@click.group("tokens")
def tokens_group() -> None:
    """Personal access tokens: list a user's, revoke one."""


def when(value: object) -> str:
    """A time as the table shows it (UTC), or a dash."""
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


@tokens_group.command("list", cls=AdminCommand)
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (for scripts).")
@with_appcontext
def list_command(name: str, as_json: bool) -> None:
    """List a user's personal access tokens as a table (or --json).

    Newest first: id, name, scopes, when made, when it expires and when it was last used
    (to the minute), in UTC. Never the secrets, which are not stored. NAME is a username or
    an email address, in any case.
    """
    tokens = live_tokens(user_or_fail(name))
    if as_json:
        records = [token_json(token) for token in tokens]
        click.echo(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode())
        return
    rows = [
        [
            str(token.id),
            token.name,
            ",".join(token.scopes.split()),
            when(token.created_at),
            when(token.expires_at),
            when(token.last_used_at),
        ]
        for token in tokens
    ]
    headers = ["ID", "NAME", "SCOPES", "CREATED (UTC)", "EXPIRES", "LAST USED"]
    click.echo(table(headers, rows))


@tokens_group.command("revoke", cls=AdminCommand)
@click.argument("token_id", metavar="ID", type=click.IntRange(min=1))
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Revoke one personal access token by its id (from `tokens list`); it stops at once."""
    token = find_token(token_id)
    if token is None:
        fail(f"no personal access token with id {token_id}")
    owner = token.user.username
    revoke_token(token, by="cli")
    click.echo(f"Revoked personal access token {token_id} of {owner}.")


COMMANDS = [revoke_tokens_command, purge_tokens_command, tokens_group]
