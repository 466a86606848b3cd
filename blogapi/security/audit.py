"""Security events, one log line each (a JSON object in production), never with a secret in
them, and counted by name in the metrics."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import has_request_context

from blogapi.observability.metrics import SECURITY_EVENTS
from blogapi.timeutil import isoformat_z, utcnow
from blogapi.web.client import client_address

log = logging.getLogger("blogapi.audit")
REDACTED = "[redacted]"
# Belt and braces: a secret passed here by mistake is dropped by its name or by its shape.
SECRET_NAME = re.compile(r"password|secret|hash|authorization|(^|_)token$", re.IGNORECASE)
SECRET_VALUE = re.compile(r"eyJ[\w-]*\.[\w-]+\.|\$(argon2|2[abxy]?\$)")


def scrub(value: Any) -> Any:
    """A field value with anything that looks like a token or a hash redacted."""
    if isinstance(value, str):
        return REDACTED if SECRET_VALUE.search(value) else value
    if isinstance(value, dict):
        return {key: scrub_field(key, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value


def scrub_field(name: Any, value: Any) -> Any:
    """A field's value, redacted when its name or its content says it is a secret."""
    return REDACTED if SECRET_NAME.search(str(name)) else scrub(value)


def audit(event: str, *, user: Any = None, username: str | None = None, **fields: Any) -> None:
    """Log a security event with time, user and client address."""
    record: dict[str, Any] = {"time": isoformat_z(utcnow()), "event": event}
    if user is not None:
        record["user_id"] = user.id
        record["user"] = user.username
    elif username is not None:
        record["user"] = scrub(username[:254])
    record["client"] = client_address() if has_request_context() else "cli"
    record.update({name: scrub_field(name, value) for name, value in fields.items()})
    SECURITY_EVENTS.labels(event).inc()
    log.info(event, extra={"fields": record})
