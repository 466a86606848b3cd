"""One attempt of one delivery, run by a queue job: claim it (a lease, so one worker at a time
sends it), log the attempt before sending, send, and record how it went: delivered, retried
later with backoff and jitter, or failed; a 410 Gone, or failing for WEBHOOK_DISABLE_AFTER_DAYS,
turns the webhook off."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, update

from blogapi.db.webhook_models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.observability.metrics import WEBHOOK_ATTEMPTS
from blogapi.observability.request_ids import request_id_bound
from blogapi.security.webhook_secrets import UnreadableSecret, unseal
from blogapi.timeutil import utcnow
from blogapi.webhooks.sending import TIMEOUT, Outcome, attempt

DELIVERIES = WebhookDelivery.__table__
ATTEMPTS = WebhookAttempt.__table__
# Longer than an attempt can take: a lease running out means its worker died.
LEASE = timedelta(seconds=TIMEOUT + 20)
DIED = "The worker stopped before this attempt finished."
log = logging.getLogger("blogapi.webhooks")


def claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery's lease and count the attempt, when it is due and nobody holds it."""
    taken = db.session.execute(
        update(DELIVERIES)
        .where(
            DELIVERIES.c.id == delivery_id,
            DELIVERIES.c.state == "pending",
            DELIVERIES.c.next_attempt_at <= now + timedelta(seconds=1),
            (DELIVERIES.c.leased_until.is_(None)) | (DELIVERIES.c.leased_until < now),
        )
        .values(leased_until=now + LEASE, attempts=DELIVERIES.c.attempts + 1, updated_at=now)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return False
    # An attempt a dead worker left open says so.
    db.session.execute(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.delivery_id == delivery_id, ATTEMPTS.c.finished_at.is_(None))
        .values(error=DIED, finished_at=now)
    )
    return True


def next_delay(attempts: int) -> float | None:
    """Seconds before the retry after `attempts` attempts, jittered; None after the last."""
    delays: tuple[float, ...] = current_app.config["WEBHOOK_RETRY_DELAYS"]
    if attempts > len(delays):
        return None
    return delays[attempts - 1] * random.uniform(0.8, 1.2)


def deliver(delivery_id: int) -> Outcome | None:
    """Make the delivery's next attempt, if it is due and free; how it went."""
    now = utcnow()
    if not claim(delivery_id, now):
        return None
    delivery = db.session.get_one(WebhookDelivery, delivery_id)
    webhook = db.session.get_one(Webhook, delivery.webhook_id)
    event = db.session.get_one(WebhookEvent, delivery.event_id)
    if not webhook.active and event.type != "ping":
        delivery.state, delivery.leased_until = "cancelled", None
        db.session.commit()
        return None
    logged = db.session.execute(
        insert(ATTEMPTS).values(
            delivery_id=delivery.id,
            webhook_id=webhook.id,
            event_uid=event.uid,
            event_type=event.type,
            attempt=delivery.attempts,
            created_at=now,
        )
    )
    attempt_id = logged.inserted_primary_key[0]  # type: ignore[attr-defined]
    url, stored, msg_id, body = webhook.url, webhook.secret, event.uid, event.payload or ""
    number, request_id = delivery.attempts, event.request_id
    db.session.commit()
    with request_id_bound(request_id):  # its log lines join those of the request that caused it
        try:
            outcome = attempt(
                url,
                body.encode(),
                unseal(stored),
                msg_id,
                allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"],
            )
        except UnreadableSecret:
            outcome = Outcome(None, "The secret cannot be read with this SECRET_KEY.", 0)
        state = record(delivery_id, attempt_id, outcome, started=now)
        WEBHOOK_ATTEMPTS.labels(state).inc()
        log.info(
            "webhooks: attempt %d of delivery %d: %s",
            number,
            delivery_id,
            state,
            extra={
                "fields": {
                    "delivery_id": delivery_id,
                    "webhook_id": webhook.id,
                    "event_id": msg_id,
                    "attempt": number,
                    "status_code": outcome.status_code,
                    "duration_ms": outcome.duration_ms,
                    "outcome": state,
                }
            },
        )
    return outcome


def record(delivery_id: int, attempt_id: int, outcome: Outcome, *, started: datetime) -> str:
    """Write how the attempt went, and what happens next, to the delivery and its webhook;
    the outcome: delivered, retrying or failed (no retry left)."""
    now = utcnow()
    delivery = db.session.get_one(WebhookDelivery, delivery_id, populate_existing=True)
    webhook = db.session.get_one(Webhook, delivery.webhook_id, populate_existing=True)
    delivery.leased_until, delivery.updated_at = None, now
    next_at = None
    if outcome.delivered:
        delivery.state, delivery.next_attempt_at = "delivered", None
        webhook.failing_since = None
    else:
        webhook.failing_since = webhook.failing_since or started
        days = current_app.config["WEBHOOK_DISABLE_AFTER_DAYS"]
        if outcome.status_code == 410:
            turn_off(webhook, "The receiver answered 410 Gone.", now)
        elif now - webhook.failing_since >= timedelta(days=days):
            turn_off(webhook, f"Every attempt failed for {days} days.", now)
        delay = next_delay(delivery.attempts) if webhook.active else None
        if delay is None:
            delivery.state, delivery.next_attempt_at = "failed", None
        else:
            next_at = now + timedelta(seconds=delay)
            delivery.next_attempt_at, delivery.enqueued = next_at, False
    state = "retrying" if next_at is not None else delivery.state
    db.session.execute(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.id == attempt_id)
        .values(
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            finished_at=now,
            next_attempt_at=next_at,
        )
    )
    db.session.commit()
    return state


def turn_off(webhook: Webhook, reason: str, now: datetime) -> None:
    """Deactivate a webhook, saying why; its pending deliveries stop at their next claim."""
    if webhook.active:
        log.warning("webhooks: webhook %d turned off: %s", webhook.id, reason)
    webhook.active, webhook.disabled_reason, webhook.updated_at = False, reason, now
