"""The outbox: every change integrations hear about is written as an event row in the same
transaction as the change, by a listener on the session's flush, so no path that changes a
post (the API, Micropub, the trash, the CLI) can forget it. Nothing is sent from here: the
worker's relay (webhooks/relay.py) fans the rows out.

Bulk restores and seeding insert rows without the ORM, and make no events.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, inspect, update
from sqlalchemy.orm import Session

from blogapi.db.models import Media, Post
from blogapi.db.webhook_models import WebhookEvent
from blogapi.observability.request_ids import current_request_id
from blogapi.timeutil import utcnow

EVENTS = WebhookEvent.__table__
# What a reader sees of a post besides its dates: a change to one of these on a live post is
# a post.updated.
CONTENT = ("title", "slug", "summary", "body", "tag_names", "feature_image_id")


def new_event_uid() -> str:
    """A Standard Webhooks message id: msg_ and 128 random bits."""
    return "msg_" + secrets.token_urlsafe(16)


def event_row(
    kind: str,
    subject_id: int | None,
    now: datetime,
    *,
    due_at: datetime | None = None,
    webhook_id: int | None = None,
) -> dict[str, Any]:
    """An outbox row for `kind`, due now unless `due_at` says later."""
    return {
        "uid": new_event_uid(),
        "type": kind,
        "subject_id": subject_id,
        "webhook_id": webhook_id,
        "created_at": now,
        "due_at": due_at if due_at is not None and due_at > now else now,
        "request_id": current_request_id(),
    }


def is_live(published_at: datetime | None, deleted_at: datetime | None, now: datetime) -> bool:
    """Whether readers see a post with these dates at `now`."""
    return deleted_at is None and published_at is not None and published_at <= now


def before(obj: Any, attribute: str) -> Any:
    """The attribute's value as the database held it before this flush."""
    history = inspect(obj).attrs[attribute].history
    if history.deleted:
        return history.deleted[0]
    return getattr(obj, attribute)


def changed(obj: Any, attribute: str) -> bool:
    """Whether this flush writes a new value of the attribute."""
    history = inspect(obj).attrs[attribute].history
    return bool(history.added or history.deleted) and history.added != history.deleted


def new_post_events(post: Post, now: datetime) -> list[dict[str, Any]]:
    """A post created published (Micropub) goes live now, or at its time."""
    if post.deleted_at is None and post.published_at is not None:
        return [event_row("post.published", post.id, now, due_at=post.published_at)]
    return []


def changed_post_events(post: Post, now: datetime) -> tuple[list[dict[str, Any]], bool]:
    """The events a flushed change of a post makes, and whether it ends a go-live still
    waiting (only a scheduled post has one: moving, undoing or trashing the schedule voids it)."""
    was_deleted, deleted = before(post, "deleted_at"), post.deleted_at
    was_published, published = before(post, "published_at"), post.published_at
    was_scheduled = was_deleted is None and was_published is not None and was_published > now
    if (was_deleted is None) != (deleted is None):
        if deleted is not None:
            return [event_row("post.deleted", post.id, now)], was_scheduled
        events = [event_row("post.restored", post.id, now)]
        if published is not None and published > now:  # its go-live was voided in the trash
            events.append(event_row("post.published", post.id, now, due_at=published))
        return events, False
    if deleted is not None:
        return [], False
    was_live = is_live(was_published, None, now)
    if changed(post, "published_at"):
        if published is None:
            return (
                [event_row("post.unpublished", post.id, now)] if was_live else []
            ), was_scheduled
        if published <= now and was_live:
            return [event_row("post.updated", post.id, now)], False  # re-dated
        events = [event_row("post.unpublished", post.id, now)] if was_live else []
        events.append(event_row("post.published", post.id, now, due_at=published))
        return events, was_scheduled
    if was_live and any(changed(post, name) for name in CONTENT):
        return [event_row("post.updated", post.id, now)], False
    return [], False


def flushed_events(session: Session, now: datetime) -> tuple[list[dict[str, Any]], set[int]]:
    """The outbox rows this flush makes, and the posts whose waiting go-live it voids."""
    rows: list[dict[str, Any]] = []
    voided: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Post):
            rows.extend(new_post_events(obj, now))
        elif isinstance(obj, Media):
            rows.append(event_row("media.created", obj.id, now))
    for obj in session.dirty:
        if isinstance(obj, Post) and obj not in session.deleted:
            events, voids = changed_post_events(obj, now)
            rows.extend(events)
            if voids:
                voided.add(obj.id)
    return rows, voided


@event.listens_for(Session, "after_flush")
def record_events(session: Session, _context: Any) -> None:
    """Write this flush's events into the outbox, on the flush's own connection."""
    if not session.new and not session.dirty:
        return
    rows, voided = flushed_events(session, utcnow())
    if not rows and not voided:
        return
    connection = session.connection()
    now = utcnow()
    if voided:
        connection.execute(
            update(EVENTS)
            .where(
                EVENTS.c.type == "post.published",
                EVENTS.c.subject_id.in_(voided),
                EVENTS.c.dispatched_at.is_(None),
                EVENTS.c.due_at > now,
            )
            .values(dispatched_at=now)
        )
    if rows:
        connection.execute(insert(EVENTS), rows)
