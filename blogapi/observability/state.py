"""What the database knows, read at each scrape: the webhook queue's and the mail outbox's
depth and the media stored. Read, not counted, so every instance and worker agrees on it
whichever one answers."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from blogapi.db.backlog import mail_depth, queue_depth
from blogapi.db.models import Media
from blogapi.extensions import db
from blogapi.timeutil import utcnow


def media_stored() -> tuple[int, int]:
    """How many media items are stored, and their original files' bytes."""
    count, size = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Media.bytes), 0))
    ).one()
    return int(count), int(size)


def collect_state() -> Iterator[Metric]:
    """The database's gauges; `blogapi_database_up` 0 (and no others) when it does not answer."""
    up = GaugeMetricFamily(
        "blogapi_database_up", "Whether the database answered this scrape's questions."
    )
    try:
        now = utcnow()
        depth = queue_depth(db.session.connection(), now)
        mail = mail_depth(db.session.connection(), now)
        items, size = media_stored()
    except SQLAlchemyError:
        db.session.rollback()
        up.add_metric([], 0)
        yield up
        return
    finally:
        db.session.rollback()  # read only: end the transaction the reads began
    up.add_metric([], 1)
    yield up
    queue = GaugeMetricFamily(
        "blogapi_webhook_queue_depth",
        "Webhook work waiting: events not yet fanned out and deliveries pending, due now or later.",
        labels=["stage", "when"],
    )
    for (stage, when), count in depth.items():
        queue.add_metric([stage, when], count)
    yield queue
    outbox = GaugeMetricFamily(
        "blogapi_mail_queue_depth",
        "Mail waiting to be sent by the worker, due now or later (a retry's backoff).",
        labels=["when"],
    )
    for when, count in mail.items():
        outbox.add_metric([when], count)
    yield outbox
    stored = GaugeMetricFamily(
        "blogapi_media_stored_bytes", "Bytes of the original media files stored."
    )
    stored.add_metric([], size)
    yield stored
    files = GaugeMetricFamily("blogapi_media_items", "Media items stored.")
    files.add_metric([], items)
    yield files
