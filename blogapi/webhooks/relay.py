"""The relay, run by every worker a few times a second: fan due events out to one delivery per
subscribed webhook (each event exactly once, whichever worker claims it), hand deliveries to the
queue, and take back those whose job was lost (a worker killed mid-attempt, a queue that was
down). The web process never enqueues anything: a change is safe once its transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from blogapi.db.webhook_models import Webhook, WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from blogapi.webhooks.payloads import event_body

EVENTS = WebhookEvent.__table__
DELIVERIES = WebhookDelivery.__table__
BATCH = 100
# A pending delivery this long past its time, and not leased, lost its queue job.
LOST_AFTER = timedelta(seconds=30)
log = logging.getLogger("blogapi.webhooks")

Enqueue = Callable[[int, datetime], None]


def subscribers(event: WebhookEvent) -> list[Webhook]:
    """The webhooks an event goes to: a ping's one webhook, else the active subscribers."""
    if event.webhook_id is not None:
        webhook = db.session.get(Webhook, event.webhook_id)
        return [webhook] if webhook is not None else []
    active = db.session.scalars(select(Webhook).where(Webhook.active.is_(True)))
    return [webhook for webhook in active if event.type in webhook.event_list]


def dispatch(event_id: int, now: datetime) -> int:
    """Claim one due event and make its deliveries, in one transaction; how many it made (none
    when another worker claimed it first, nobody subscribes, or the event is void)."""
    claimed = db.session.execute(
        update(EVENTS)
        .where(EVENTS.c.id == event_id, EVENTS.c.dispatched_at.is_(None))
        .values(dispatched_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        return 0
    event = db.session.get_one(WebhookEvent, event_id)
    targets = subscribers(event)
    body = event_body(event, targets[0] if event.webhook_id is not None and targets else None)
    if targets and body is not None:
        event.payload = body.decode()
        rows = [
            {
                "webhook_id": webhook.id,
                "event_id": event_id,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "enqueued": False,
                "created_at": now,
                "updated_at": now,
            }
            for webhook in targets
        ]
        db.session.execute(insert(DELIVERIES), rows)
    db.session.commit()
    return len(targets) if body is not None else 0


def dispatch_due(now: datetime) -> int:
    """Fan out the events due by now, oldest first, a batch at a time; deliveries made."""
    due = select(WebhookEvent.id).where(
        WebhookEvent.dispatched_at.is_(None), WebhookEvent.due_at <= now
    )
    ids = list(db.session.scalars(due.order_by(WebhookEvent.due_at, WebhookEvent.id).limit(BATCH)))
    db.session.commit()  # end the read, so each claim starts its own transaction
    return sum(dispatch(event_id, now) for event_id in ids)


def enqueue_ready(enqueue: Enqueue) -> int:
    """Hand the queue every pending delivery that has no job yet; how many it took."""
    ready = select(WebhookDelivery.id, WebhookDelivery.next_attempt_at).where(
        WebhookDelivery.state == "pending", WebhookDelivery.enqueued.is_(False)
    )
    rows = db.session.execute(ready.order_by(WebhookDelivery.id).limit(BATCH)).all()
    db.session.commit()
    queued = 0
    for delivery_id, next_attempt_at in rows:
        # Marked before the job exists, so a job that runs and fails at once (asking for a
        # retry: enqueued false again) is never overwritten by this mark.
        taken = db.session.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id == delivery_id, DELIVERIES.c.enqueued.is_(False))
            .values(enqueued=True)
        )
        db.session.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another relay took it
        try:
            enqueue(delivery_id, next_attempt_at or utcnow())
        except Exception:
            db.session.execute(
                update(DELIVERIES).where(DELIVERIES.c.id == delivery_id).values(enqueued=False)
            )
            db.session.commit()
            raise
        queued += 1
    return queued


def sweep_lost(now: datetime) -> int:
    """Give back to the relay the deliveries whose job was lost; how many."""
    lost = db.session.execute(
        update(DELIVERIES)
        .where(
            DELIVERIES.c.state == "pending",
            DELIVERIES.c.enqueued.is_(True),
            DELIVERIES.c.next_attempt_at < now - LOST_AFTER,
            (DELIVERIES.c.leased_until.is_(None)) | (DELIVERIES.c.leased_until < now),
        )
        .values(enqueued=False)
    )
    db.session.commit()
    count: int = lost.rowcount  # type: ignore[attr-defined]
    if count:
        log.warning("webhooks: %d deliveries lost their queue job; queued again", count)
    return count


def relay_round(enqueue: Enqueue, *, sweep: bool = True) -> int:
    """One pass of the relay; how many deliveries it queued."""
    now = utcnow()
    if sweep:
        sweep_lost(now)
    dispatch_due(now)
    return enqueue_ready(enqueue)
