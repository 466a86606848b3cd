"""The job queue, on Huey: Redis (REDIS_URL) when the deployment has one, else a SQLite file
in the instance folder, so the embedded default needs no server. Only the worker uses it, so
Huey is imported by the worker alone, and without the drivers of storages it does not use."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask

from blogapi.mail.worker import send_job
from blogapi.observability.metrics import timed_task
from blogapi.observability.tracing import task_span
from blogapi.timeutil import utcnow
from blogapi.webhooks.delivery import deliver
from blogapi.webhooks.maintenance import prune

if TYPE_CHECKING:
    from huey import Huey

DELIVERY_ID = "blogapi.webhook.delivery_id"  # the span attribute naming a task's delivery
MAIL_ID = "blogapi.mail.id"  # the span attribute naming a task's message


def import_huey(unused_drivers: Iterable[str]) -> None:
    """Import Huey with `unused_drivers` kept from it: Huey imports the driver of every storage
    it has, when installed (psycopg, about 9 MB, and redis, about 6 MB), used or not."""
    if "huey" in sys.modules:
        return
    hidden = [name for name in unused_drivers if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        import huey  # noqa: F401
    finally:
        for name in hidden:
            del sys.modules[name]  # the app may still import it for itself later


def make_huey(config: Any) -> Huey:
    """The Huey instance the configuration names."""
    redis_url = config.get("REDIS_URL") if hasattr(config, "get") else config.REDIS_URL
    # A PostgreSQL database has imported psycopg already (the engine's driver), so it stays.
    import_huey(["psycopg"] if redis_url else ["psycopg", "redis"])
    from huey import RedisHuey, SqliteHuey

    if redis_url:
        return RedisHuey("blogapi", url=redis_url, results=False)
    filename = config.get("QUEUE_FILE") if hasattr(config, "get") else config.QUEUE_FILE
    return SqliteHuey("blogapi", filename=filename, results=False)


@dataclass(frozen=True)
class Queue:
    """A Huey instance with this app's tasks on it."""

    huey: Huey
    enqueue: Callable[[int, datetime], None]
    enqueue_mail: Callable[[int, datetime], None]


def bind_tasks(app: Flask, huey: Huey) -> Queue:
    """Register the delivery and mail jobs and the periodic clean-up on `huey`, in `app`."""
    from huey import crontab

    @huey.task(name="webhooks.deliver")  # type: ignore[untyped-decorator]
    def deliver_task(delivery_id: int) -> None:
        span = task_span("webhooks.deliver", **{DELIVERY_ID: delivery_id})
        with timed_task("webhooks.deliver"), app.app_context(), span:
            deliver(delivery_id)

    @huey.periodic_task(crontab(minute="*/10"), name="webhooks.prune")  # type: ignore[untyped-decorator]
    def prune_task() -> None:
        with timed_task("webhooks.prune"), app.app_context(), task_span("webhooks.prune"):
            prune(utcnow())

    @huey.task(name="mail.send")  # type: ignore[untyped-decorator]
    def mail_task(mail_id: int, lease: datetime) -> None:
        span = task_span("mail.send", **{MAIL_ID: mail_id})
        with timed_task("mail.send"), app.app_context(), span:
            send_job(mail_id, lease)

    def enqueue(delivery_id: int, when: datetime) -> None:
        if when > utcnow():
            deliver_task.schedule((delivery_id,), eta=when)
        else:
            deliver_task(delivery_id)

    def enqueue_mail(mail_id: int, lease: datetime) -> None:
        mail_task(mail_id, lease)

    return Queue(huey, enqueue, enqueue_mail)
