"""After an import: whether this SECRET_KEY reads the webhook secrets the file brought (they
are sealed with the exporting instance's key, as stored)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import select

from blogapi.db.webhook_models import Webhook
from blogapi.extensions import db


def cipher() -> Fernet:
    """The sealing of blogapi.webhooks.signing_secrets.cipher, which backup may not import (the
    layers contract); a test holds the two equal."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"blogapi webhook secrets"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def unreadable_secrets() -> int:
    """How many webhooks have a secret that this SECRET_KEY cannot unseal."""
    fernet, unreadable = cipher(), 0
    for sealed in db.session.scalars(select(Webhook.secret)):
        try:
            fernet.decrypt(sealed.encode())
        except (InvalidToken, ValueError):
            unreadable += 1
    db.session.rollback()
    return unreadable
