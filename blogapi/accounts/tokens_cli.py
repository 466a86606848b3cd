"""Admin commands for tokens: revoke a user's, purge expired revocation records."""

from __future__ import annotations

import click
from flask import current_app

from blogapi.accounts.cli_input import user_or_fail
from blogapi.accounts.sessions import revoke_all_tokens
from blogapi.db.commands import admin_command
from blogapi.security.revocation import purge_expired_revocations


@admin_command("revoke-tokens", epilog="NAME is a username or an email address, in any case.")
@click.argument("name")
def revoke_tokens_command(name: str) -> None:
    """Log a user out everywhere (revoke all tokens).

    Every access and refresh token user NAME holds stops working at once; their password
    is unchanged, so they can log in again.
    """
    user = user_or_fail(name)
    revoke_all_tokens(user)
    click.echo(f"Revoked every token of {user.username}; they must log in again.")


@admin_command("purge-tokens")
def purge_tokens_command() -> None:
    """Delete revocation records of expired tokens.

    A revoked token's record is only needed until the token expires; this keeps the
    table small. Safe to run at any time, for example daily from cron.
    """
    purged, remaining = purge_expired_revocations(current_app.config.get("JWT_DECODE_LEEWAY", 0))
    click.echo(f"Purged {purged} expired token revocation(s); kept {remaining} not yet expired.")


COMMANDS = [revoke_tokens_command, purge_tokens_command]
