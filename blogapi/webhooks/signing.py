"""Standard Webhooks signatures (standardwebhooks.com): HMAC-SHA256 of "id.timestamp.body"."""

from __future__ import annotations

import base64
import hashlib
import hmac

from blogapi.security.webhook_secrets import secret_key_bytes


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature value: v1, and the base64 HMAC."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "blogapi-webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
    }
