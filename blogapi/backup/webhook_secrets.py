"""After an import: whether this SECRET_KEY reads the webhook secrets the file brought (they
are sealed with the exporting instance's key, as stored)."""

from __future__ import annotations

from sqlalchemy import select

from blogapi.db.webhook_models import Webhook
from blogapi.extensions import db
from blogapi.security.webhook_secrets import UnreadableSecret, unseal


def unreadable_secrets() -> int:
    """How many webhooks have a secret that this SECRET_KEY cannot unseal."""
    unreadable = 0
    for sealed in db.session.scalars(select(Webhook.secret)):
        try:
            unseal(sealed)
        except UnreadableSecret:
            unreadable += 1
    db.session.rollback()
    return unreadable
