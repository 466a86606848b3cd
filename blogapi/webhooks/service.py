"""The webhooks admin rules: register (secret shown once, target checked), change, remove,
read the delivery log, send an event again, ping. Each function that writes commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, insert, select

from blogapi.db.models import User
from blogapi.db.webhook_models import (
    SUBSCRIBABLE,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.security.outbound import OutboundFailed, OutboundRefused, check_reachable
from blogapi.security.webhook_secrets import new_secret, seal
from blogapi.timeutil import utcnow
from blogapi.web.errors import ApiError
from blogapi.webhooks.outbox import event_row

MAX_WEBHOOKS = 50
RESOLVE_TIMEOUT = 3.0  # registration waits this long for DNS, not a delivery's 10 s
TURNED_OFF = "The webhook is turned off; turn it on first (PATCH active: true)."


def checked_url(url: str) -> str:
    """The URL, once it is an http(s) URL to a public address (or any address, when
    WEBHOOK_ALLOW_PRIVATE) whose name resolves; else 422 under `url`."""
    allow_private = bool(current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    try:
        check_reachable(url, allow_private=allow_private, timeout=RESOLVE_TIMEOUT)
    except (OutboundFailed, OutboundRefused) as refused:
        raise ApiError(422, refused.detail, errors={"url": [refused.detail]}) from None
    except (UnicodeError, ValueError):
        detail = "The host name is not one DNS can look up."
        raise ApiError(422, detail, errors={"url": [detail]}) from None
    return url


def ordered_events(events: Sequence[str]) -> str:
    """Event types in the contract's order, as stored."""
    return " ".join(kind for kind in SUBSCRIBABLE if kind in events)


def all_webhooks() -> list[Webhook]:
    """Every webhook, oldest first."""
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def find_webhook(webhook_id: int) -> Webhook | None:
    """A webhook by id."""
    return db.session.get(Webhook, webhook_id)


def target(url: str) -> str:
    """What an audit line says of a URL: its host (a path may hold a receiver's credential)."""
    return str(urlsplit(url).hostname)


def create_webhook(
    user: User, url: str, events: Sequence[str], description: str
) -> tuple[Webhook, str]:
    """Register a webhook and commit; the row and its signing secret (shown once, stored
    sealed). 409 at MAX_WEBHOOKS."""
    count = db.session.scalar(select(func.count()).select_from(Webhook)) or 0
    if count >= MAX_WEBHOOKS:
        raise ApiError(409, f"There are {MAX_WEBHOOKS} webhooks already; delete one first.")
    checked_url(url)
    secret = new_secret()
    now = utcnow()
    webhook = Webhook(
        url=url,
        events=ordered_events(events),
        description=description,
        secret=seal(secret),
        active=True,
        created_at=now,
        updated_at=now,
    )
    db.session.add(webhook)
    db.session.commit()
    audit(
        "webhook_created",
        user=user,
        webhook_id=webhook.id,
        target=target(url),
        events=webhook.event_list,
    )
    return webhook, secret


def change_webhook(user: User, webhook: Webhook, changes: dict[str, Any]) -> Webhook:
    """Apply an admin's changes and commit: a new URL is checked again, turning a webhook on
    forgets why it was off, turning it off says an admin did."""
    if "url" in changes:
        webhook.url = checked_url(changes["url"])
    if "events" in changes:
        webhook.events = ordered_events(changes["events"])
    if "description" in changes:
        webhook.description = changes["description"]
    if changes.get("active") is True:
        webhook.active, webhook.failing_since, webhook.disabled_reason = True, None, None
    elif changes.get("active") is False and webhook.active:
        webhook.active, webhook.disabled_reason = False, f"Turned off by {user.username}."
    webhook.updated_at = utcnow()
    db.session.commit()
    shown = {name: value for name, value in changes.items() if name != "url"}
    if "url" in changes:
        shown["target"] = target(changes["url"])
    audit("webhook_changed", user=user, webhook_id=webhook.id, **shown)
    return webhook


def delete_webhook(user: User, webhook: Webhook) -> None:
    """Remove a webhook and commit; its pings, deliveries and log go with it (cascade)."""
    webhook_id, url = webhook.id, webhook.url
    db.session.delete(webhook)
    db.session.commit()
    audit("webhook_deleted", user=user, webhook_id=webhook_id, target=target(url))


def attempt_page(webhook: Webhook, page: int, per_page: int) -> tuple[list[WebhookAttempt], int]:
    """One page of the webhook's delivery log, newest first, and how many attempts it holds."""
    mine = WebhookAttempt.webhook_id == webhook.id
    total = db.session.scalar(select(func.count()).select_from(WebhookAttempt).where(mine)) or 0
    attempts = db.session.scalars(
        select(WebhookAttempt)
        .where(mine)
        .order_by(WebhookAttempt.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(attempts), total


def redeliver(webhook: Webhook, attempt_id: int) -> str:
    """Send the event of one of the webhook's logged attempts again, with the same id, and
    commit: its delivery is pending again, due now, for the relay to queue. The event's id;
    404 for another webhook's attempt, 409 while the webhook is off."""
    logged = db.session.get(WebhookAttempt, attempt_id)
    if logged is None or logged.webhook_id != webhook.id:
        raise ApiError(404, "This webhook has no such delivery.")
    if not webhook.active:
        raise ApiError(409, TURNED_OFF)
    delivery = db.session.get_one(WebhookDelivery, logged.delivery_id)
    now = utcnow()
    delivery.state, delivery.next_attempt_at, delivery.enqueued = "pending", now, False
    delivery.updated_at = now
    db.session.commit()
    return logged.event_uid


def ping(webhook: Webhook) -> str:
    """Queue a ping for this one webhook (due now) and commit; the event's id."""
    row = event_row("ping", None, utcnow(), webhook_id=webhook.id)
    db.session.execute(insert(WebhookEvent.__table__).values(row))
    db.session.commit()
    uid: str = row["uid"]
    return uid
