"""Keeping the webhook tables small: the attempt log and finished events go after 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select

from blogapi.db.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEvent
from blogapi.extensions import db

KEEP = timedelta(days=30)
ATTEMPTS = WebhookAttempt.__table__
EVENTS = WebhookEvent.__table__
DELIVERIES = WebhookDelivery.__table__


def prune(now: datetime) -> tuple[int, int]:
    """Delete attempts older than 30 days, and events fanned out before then whose deliveries
    are all finished (their deliveries go with them); how many of each."""
    cutoff = now - KEEP
    attempts = db.session.execute(delete(ATTEMPTS).where(ATTEMPTS.c.created_at < cutoff))
    pending = exists(
        select(DELIVERIES.c.id).where(
            DELIVERIES.c.event_id == EVENTS.c.id, DELIVERIES.c.state == "pending"
        )
    )
    events = db.session.execute(delete(EVENTS).where(EVENTS.c.dispatched_at < cutoff, ~pending))
    db.session.commit()
    return attempts.rowcount, events.rowcount  # type: ignore[attr-defined]
