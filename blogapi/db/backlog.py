"""The webhook backlog: work that is due and not yet done.

Due events not yet fanned out (the relay's work) and pending deliveries whose attempt is due
(the queue's), those being attempted right now included. Work that waits on purpose is not
counted: a scheduled post's go-live and a retry whose time has not come. Each is counted only
up to a limit, so that asking stays cheap however large the backlog grows (both indexes
serve these ranges)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from blogapi.db.webhook_models import WebhookDelivery, WebhookEvent

EVENTS = WebhookEvent.__table__
DELIVERIES = WebhookDelivery.__table__


def due_backlog(connection: Connection, now: datetime, limit: int) -> int:
    """Webhook work due by `now` and not done, counted up to `limit`."""
    events = (
        select(EVENTS.c.id)
        .where(EVENTS.c.dispatched_at.is_(None), EVENTS.c.due_at <= now)
        .limit(limit)
        .subquery()
    )
    deliveries = (
        select(DELIVERIES.c.id)
        .where(DELIVERIES.c.state == "pending", DELIVERIES.c.next_attempt_at <= now)
        .limit(limit)
        .subquery()
    )
    counts = select(
        select(func.count()).select_from(events).scalar_subquery(),
        select(func.count()).select_from(deliveries).scalar_subquery(),
    )
    due_events, due_deliveries = connection.execute(counts).one()
    return min(int(due_events) + int(due_deliveries), limit)
