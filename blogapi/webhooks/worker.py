"""`manage.py worker`: Huey's consumer (webhook delivery and mail jobs on a pool of threads,
retries at their time, the periodic clean-up) and, beside it, the relay thread that feeds it
from the webhook outbox and the mail outbox."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from blogapi.extensions import db
from blogapi.mail.worker import claim_round
from blogapi.observability.tracing import untraced
from blogapi.webhooks.queue import Queue, bind_tasks, make_huey
from blogapi.webhooks.relay import relay_round

SWEEP_EVERY = 5.0  # seconds between looks for lost jobs
IDLE_POLL = 1.0
log = logging.getLogger("blogapi.webhooks")


class Relay(threading.Thread):
    """Runs relay rounds every `poll` seconds until stopped; a failing round (the database or
    the queue down) is logged and tried again, more slowly, until it works."""

    def __init__(self, app: Flask, queue: Queue, poll: float) -> None:
        super().__init__(name="webhooks-relay", daemon=True)
        self.app, self.queue, self.poll = app, queue, poll
        self.stopping = threading.Event()

    def run(self) -> None:
        """Loop until stop()."""
        wait, last_sweep = self.poll, 0.0
        while not self.stopping.wait(wait):
            sweep = time.monotonic() - last_sweep >= SWEEP_EVERY
            try:
                with self.app.app_context(), untraced():
                    try:
                        relay_round(self.queue.enqueue, sweep=sweep)
                        claim_round(self.queue.enqueue_mail)
                    finally:
                        db.session.rollback()
            except Exception as error:  # the loop must outlive any outage
                log.warning("webhooks: relay round failed (%s); retrying", error)
                wait = min(wait * 2, 5.0)
                continue
            if sweep:
                last_sweep = time.monotonic()
            wait = self.poll

    def stop(self) -> None:
        """Ask the loop to end after its current round."""
        self.stopping.set()


def run_worker(app: Flask, *, workers: int, poll: float) -> None:
    """Run the consumer and the relay until SIGINT or SIGTERM."""
    queue = bind_tasks(app, make_huey(app.config))
    relay = Relay(app, queue, poll)
    relay.start()
    # Idle threads poll a SQLite queue at most a second apart (Huey's default backs off to
    # 10 s, which would be a delivery's latency); Redis wakes them at once.
    consumer = queue.huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
        max_delay=IDLE_POLL,
    )
    try:
        consumer.run()
    finally:
        relay.stop()
        relay.join(timeout=10)
