"""The worker's backlog: work that is due and not yet done.

Due webhook events not yet fanned out (the relay's work), pending deliveries whose attempt is
due (the queue's), and mail due and not sent (the outbox's), those being attempted right now
included. Work that waits on purpose is not counted: a scheduled post's go-live and a retry
whose time has not come. Each is counted only up to a limit, so that asking stays cheap
however large the backlog grows (the indexes serve these ranges)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.engine import Connection

from blogapi.db.mail_models import OutgoingMail
from blogapi.db.webhook_models import WebhookDelivery, WebhookEvent

EVENTS = WebhookEvent.__table__
DELIVERIES = WebhookDelivery.__table__
WAITING_EVENT = EVENTS.c.dispatched_at.is_(None)  # not yet fanned out
PENDING_DELIVERY = DELIVERIES.c.state == "pending"  # not yet delivered, failed or cancelled
OUTBOX = OutgoingMail.__table__
PENDING_MAIL = OUTBOX.c.status == "pending"  # not yet sent, skipped or failed


def event_due(now: datetime) -> ColumnElement[bool]:
    """A waiting event whose time has come."""
    return EVENTS.c.due_at <= now


def delivery_due(now: datetime) -> ColumnElement[bool]:
    """A pending delivery whose next attempt's time has come."""
    return DELIVERIES.c.next_attempt_at <= now


def due_backlog(connection: Connection, now: datetime, limit: int) -> int:
    """Webhook work and mail due by `now` and not done, counted up to `limit`."""
    due = [
        select(EVENTS.c.id).where(WAITING_EVENT, event_due(now)),
        select(DELIVERIES.c.id).where(PENDING_DELIVERY, delivery_due(now)),
        select(OUTBOX.c.id).where(PENDING_MAIL, OUTBOX.c.due_at <= now),
    ]
    counts = select(
        *(
            select(func.count()).select_from(query.limit(limit).subquery()).scalar_subquery()
            for query in due
        )
    )
    return min(sum(int(count) for count in connection.execute(counts).one()), limit)


def queue_depth(connection: Connection, now: datetime) -> dict[tuple[str, str], int]:
    """All webhook work waiting, by stage (events, deliveries) and by whether it is due now or
    later (a scheduled go-live, a retry's backoff): counted in full, for the metrics."""
    due_in = [
        (EVENTS, WAITING_EVENT, event_due(now)),
        (DELIVERIES, PENDING_DELIVERY, delivery_due(now)),
    ]
    counts = [
        connection.execute(
            select(func.count(), func.coalesce(func.sum(case((due, 1), else_=0)), 0))
            .select_from(table)
            .where(waiting)
        ).one()
        for table, waiting, due in due_in
    ]
    (events, events_due), (deliveries, deliveries_due) = counts
    return {
        ("events", "due"): int(events_due),
        ("events", "later"): int(events) - int(events_due),
        ("deliveries", "due"): int(deliveries_due),
        ("deliveries", "later"): int(deliveries) - int(deliveries_due),
    }


def mail_depth(connection: Connection, now: datetime) -> dict[str, int]:
    """Mail waiting to be sent, due now or later (a retry's backoff): for the metrics."""
    waiting, due = connection.execute(
        select(func.count(), func.coalesce(func.sum(case((OUTBOX.c.due_at <= now, 1), else_=0)), 0))
        .select_from(OUTBOX)
        .where(PENDING_MAIL)
    ).one()
    return {"due": int(due), "later": int(waiting) - int(due)}
