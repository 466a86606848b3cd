"""Admin commands for tokens: revoke a user's, purge expired revocation records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import click
from flask import current_app
from sqlalchemy import CursorResult, delete, func, select

from blogapi.accounts.cli_input import user_or_fail
from blogapi.db.commands import admin_command
from blogapi.db.models import RevokedToken
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.timeutil import utcnow


@admin_command("revoke-tokens", epilog="NAME is a username or an email address, in any case.")
@click.argument("name")
def revoke_tokens_command(name: str) -> None:
    """Log a user out everywhere (revoke all tokens).

    Every access and refresh token user NAME holds stops working at once; their password
    is unchanged, so they can log in again.
    """
    user = user_or_fail(name)
    user.revoke_all_tokens()
    db.session.commit()
    audit("tokens_revoked", user=user)
    click.echo(f"Revoked every token of {user.username}; they must log in again.")


@admin_command("purge-tokens")
def purge_tokens_command() -> None:
    """Delete revocation records of expired tokens.

    A revoked token's record is only needed until the token expires; this keeps the
    table small. Safe to run at any time, for example daily from cron.
    """
    # A token is still accepted for JWT_DECODE_LEEWAY after it expires: keep its record as long.
    leeway = current_app.config.get("JWT_DECODE_LEEWAY", 0)
    if not isinstance(leeway, timedelta):
        leeway = timedelta(seconds=leeway)
    cutoff = utcnow() - leeway
    # A DELETE's result is a CursorResult (it has rowcount); Session.execute is typed Result.
    purged = cast(
        CursorResult[Any],
        db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < cutoff)),
    )
    db.session.commit()
    remaining = db.session.scalar(select(func.count()).select_from(RevokedToken)) or 0
    audit("revocations_purged", purged=purged.rowcount)
    click.echo(
        f"Purged {purged.rowcount} expired token revocation(s); kept {remaining} not yet expired."
    )


COMMANDS = [revoke_tokens_command, purge_tokens_command]
