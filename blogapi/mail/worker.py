"""Mail in `manage.py worker`: the relay thread's round claims the due messages (each with a
lease) and hands each to a queue job, which makes its attempt. A job lost with its worker
leaves a lease that runs out, and a later round claims the message again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from blogapi.mail import mail_enabled
from blogapi.mail.sending import attempt, claim_due
from blogapi.mail.transports import transport_for
from blogapi.timeutil import utcnow

BATCH = 100
SendJob = Callable[[int, datetime], None]


def claim_round(enqueue: SendJob) -> int:
    """Claim the due messages and queue a job for each; how many (none when mail is off)."""
    if not mail_enabled(current_app):
        return 0
    claimed = claim_due(utcnow(), BATCH)
    for mail_id, lease in claimed:
        enqueue(mail_id, lease)
    return len(claimed)


def send_job(mail_id: int, lease: datetime) -> str | None:
    """A queue job: one attempt of a message claimed with `lease`; its outcome."""
    if not mail_enabled(current_app):
        return None
    return attempt(mail_id, lease, utcnow(), transport_for(current_app.config))
