"""What accounts send by email: verification links and notices, staged in the caller's
transaction through the mail outbox (blogapi/mail), and sent by the worker."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import current_app, has_request_context

from blogapi.accounts.email_tokens import mint, void_tokens
from blogapi.db.models import User
from blogapi.mail import mail_enabled
from blogapi.mail.outbox import queue_mail
from blogapi.web.errors import ApiError
from blogapi.web.urls import external_url

VERIFY = "verify_email"
RESET = "password_reset"
MAIL_OFF = "Mail is turned off on this server (MAIL_URL=none), so this cannot be done by email."
# Without SITE_URL and outside a request (the worker), links point at `make run`'s address.
DEVELOPMENT_SITE = "http://127.0.0.1:5000"


def mail_on() -> bool:
    """Whether this server sends mail at all."""
    return mail_enabled(current_app)


def require_mail() -> None:
    """503 when mail is off: the flows that need a mailed link cannot work."""
    if not mail_on():
        raise ApiError(503, MAIL_OFF)


def account_link(path: str, token: str) -> str:
    """The absolute link to a site page with a mailed token, on SITE_URL."""
    query = urlencode({"token": token})
    if current_app.config.get("SITE_URL") or has_request_context():
        return f"{external_url(path)}?{query}"
    return f"{DEVELOPMENT_SITE}{path}?{query}"


def person(user: User) -> dict[str, Any]:
    """Who a message greets."""
    return {"name": user.public_name, "username": user.username}


def send_verification(user: User, address: str) -> None:
    """Stage a verification message with a new link to `address` (the user's address or the
    one they asked to move to); older links stop working. Caller commits; nothing without mail."""
    if not mail_on():
        return
    void_tokens(user, VERIFY)
    token = mint(user, VERIFY, address, current_app.config["EMAIL_VERIFY_EXPIRES"])
    hours = int(current_app.config["EMAIL_VERIFY_EXPIRES"].total_seconds() // 3600)
    context = {
        **person(user),
        "token": token,
        "link": account_link("/verify-email", token),
        "address": address,
        "hours": hours,
    }
    queue_mail(VERIFY, address, user_id=user.id, context=context)


def notice(user: User, template: str, *, to: str | None = None, **context: Any) -> None:
    """Stage a notice about the account to its address (or `to`); caller commits; nothing
    without mail (queue_mail stages nothing then)."""
    queue_mail(template, to or user.email, user_id=user.id, context={**person(user), **context})
