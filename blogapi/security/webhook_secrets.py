"""Webhook signing secrets: `whsec_` and 256 random bits, shown once, and kept encrypted with a
key derived from SECRET_KEY, since the server must read them to sign (a hash would not do).

Changing SECRET_KEY makes the stored secrets unreadable: their webhooks then fail to sign and
must be given new secrets (DEPLOY.md says so).
"""

from __future__ import annotations

import base64
import functools
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "whsec_"
SECRET_BYTES = 32


class UnreadableSecret(Exception):
    """A stored secret that this SECRET_KEY did not encrypt."""


def new_secret() -> str:
    """A fresh Standard Webhooks secret: whsec_ and the base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key a whsec_ secret stands for."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def cipher(secret_key: str | None = None) -> Fernet:
    """Fernet (AES-128-CBC + HMAC-SHA256) keyed by HKDF-SHA256 of SECRET_KEY."""
    return keyed_cipher(secret_key or current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=4)
def keyed_cipher(secret_key: str) -> Fernet:
    """The cipher of one SECRET_KEY, derived once per process."""
    material = secret_key.encode()
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"blogapi webhook secrets"
    ).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, secret_key: str | None = None) -> str:
    """The secret as stored."""
    return cipher(secret_key).encrypt(secret.encode()).decode()


def unseal(stored: str, secret_key: str | None = None) -> str:
    """The secret a stored value holds; UnreadableSecret when another key sealed it."""
    return unsealed(stored, secret_key or current_app.config["SECRET_KEY"])


@functools.lru_cache(maxsize=256)
def unsealed(stored: str, secret_key: str) -> str:
    """unseal, remembered: every delivery to a webhook reads the same stored secret."""
    try:
        return keyed_cipher(secret_key).decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        raise UnreadableSecret from None
