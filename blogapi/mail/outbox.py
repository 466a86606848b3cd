"""Staging messages: a row in the caller's session, committed with the change that causes it,
so a message exists exactly when its change does. The worker sends it (sending.py)."""

from __future__ import annotations

from email.errors import HeaderParseError, MessageDefect
from email.headerregistry import Address
from typing import Any

import orjson
from flask import current_app

from blogapi.db.mail_models import OutgoingMail
from blogapi.extensions import db
from blogapi.mail import mail_enabled
from blogapi.mail.compose import has_template
from blogapi.observability.request_ids import current_request_id
from blogapi.timeutil import utcnow

MAX_ADDRESS = 254  # RFC 5321's longest path, less its angle brackets


def check_address(value: str) -> str:
    """`value` if it is one bare address (local@domain, no name, no CR/LF); else ValueError."""
    if (
        not isinstance(value, str)
        or not 3 <= len(value) <= MAX_ADDRESS
        or any(ord(ch) < 33 or ord(ch) == 127 for ch in value)
    ):
        raise ValueError("not one email address")
    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError, HeaderParseError, MessageDefect):
        raise ValueError("not one email address") from None
    if address.addr_spec != value or not address.username or not address.domain:
        raise ValueError("not one email address")
    return value


def encode_context(context: dict[str, Any] | None) -> str | None:
    """The context as stored: JSON, or None when empty."""
    if not context:
        return None
    try:
        return orjson.dumps(context).decode()
    except TypeError as error:
        raise ValueError(f"mail context must be JSON-able: {error}") from None


def queue_mail(
    template: str,
    to_address: str,
    *,
    user_id: int | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Stage one message in db.session, for the caller to commit with its change; nothing
    when mail is off (MAIL_URL=none). A bad address or template is a ValueError."""
    check_address(to_address)
    if not has_template(template):
        raise ValueError(f"no mail template {template!r}")
    stored = encode_context(context)
    if not mail_enabled(current_app):
        return
    now = utcnow()
    db.session.add(
        OutgoingMail(
            template=template,
            to_address=to_address,
            user_id=user_id,
            context=stored,
            request_id=current_request_id(),
            created_at=now,
            due_at=now,
            attempts=0,
            status="pending",
        )
    )
