"""Storage keys: random names the server makes, the only names that reach the storage."""

from __future__ import annotations

import re
import secrets

# 128 random bits and the format's extension: unguessable, and new whenever content is.
KEY = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|gif|webp)")
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}


def new_key(extension: str) -> str:
    """A fresh random key for a file of this extension."""
    return f"{secrets.token_hex(16)}.{extension}"


def is_key(value: str) -> bool:
    """Whether `value` is a key this server could have made."""
    return KEY.fullmatch(value) is not None


def content_type_of(key: str) -> str:
    """The media type a key's file is served with."""
    return CONTENT_TYPES[key.rsplit(".", 1)[1]]
