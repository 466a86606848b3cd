"""Security events, one JSON line each, never with a secret in them."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import has_request_context

from blogapi.client import client_address
from blogapi.timeutil import isoformat_z, utcnow

log = logging.getLogger("blogapi.audit")


def audit(event: str, *, user: Any = None, username: str | None = None, **fields: Any) -> None:
    """Log a security event with time, user and client address."""
    record: dict[str, Any] = {"time": isoformat_z(utcnow()), "event": event}
    if user is not None:
        record["user_id"] = user.id
        record["user"] = user.username
    elif username is not None:
        record["user"] = username[:254]
    record["client"] = client_address() if has_request_context() else "cli"
    record.update(fields)
    log.info(orjson.dumps(record, default=str).decode())
