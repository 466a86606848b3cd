"""Sending the outbox: claim due messages with a lease (so two workers never take one), make
one attempt each, and record how it went: sent, retried later with backoff, skipped by its
preparer, or failed. The worker claims in its relay thread and sends in queue jobs;
`send_due_mail` does both at once (tests, and anyone wanting a synchronous round)."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import select, update

from blogapi.db.mail_models import OutgoingMail
from blogapi.extensions import db
from blogapi.mail.compose import compose, new_message_id
from blogapi.mail.kinds import preparer_for
from blogapi.mail.transports import MailOff, SendFailed, Transport, transport_for
from blogapi.observability.metrics import MAIL_MESSAGES
from blogapi.observability.request_ids import request_id_bound
from blogapi.timeutil import utcnow

OUTBOX = OutgoingMail.__table__
# Seconds before each retry, jittered by a fifth: quick at first, then spaced out to about a
# day in all, past which a message is failed.
RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800)
log = logging.getLogger("blogapi.mail")


def lease_length() -> timedelta:
    """How long a claim holds a message: longer than a queue's wait plus one attempt (a few
    SMTP exchanges, each up to MAIL_TIMEOUT); a lease running out means its worker died."""
    return timedelta(seconds=6 * current_app.config["MAIL_TIMEOUT"] + 30)


def claim_due(now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """Lease up to `limit` due messages, oldest first: (id, lease) for each one this caller
    took (a message another caller holds, or took first, is left alone)."""
    free = (OUTBOX.c.leased_until.is_(None)) | (OUTBOX.c.leased_until < now)
    due = (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.status == "pending", OUTBOX.c.due_at <= now, free)
        .order_by(OUTBOX.c.due_at, OUTBOX.c.id)
        .limit(limit)
    )
    ids = list(db.session.scalars(due))
    db.session.commit()  # end the read, so each claim is its own transaction
    until = now + lease_length()
    claimed = []
    for mail_id in ids:
        taken = db.session.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == mail_id, OUTBOX.c.status == "pending", free)
            .values(leased_until=until)
        )
        db.session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append((mail_id, until))
    return claimed


def begin_attempt(mail_id: int, lease: datetime, now: datetime) -> OutgoingMail | None:
    """Count an attempt of a message this caller still holds with `lease`, renewing it; None
    when the lease was lost (ran out and another caller took the message)."""
    taken = db.session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == mail_id, OUTBOX.c.status == "pending", OUTBOX.c.leased_until == lease)
        .values(leased_until=now + lease_length(), attempts=OUTBOX.c.attempts + 1)
    )
    db.session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return db.session.get_one(OutgoingMail, mail_id, populate_existing=True)


def prepared_context(mail: OutgoingMail) -> dict[str, Any] | None:
    """The message's context, its preparer run first at the first attempt (the result stored
    with the subject and Message-ID, so every retry sends the same); None to skip it."""
    context: dict[str, Any] = orjson.loads(mail.context) if mail.context else {}
    if mail.message_id is not None:
        return context
    prepare = preparer_for(mail.template)
    if prepare is not None:
        extra = prepare(mail)
        if extra is None:
            return None
        context.update(extra)
        mail.context = orjson.dumps(context).decode() if context else None
    mail.message_id = new_message_id(current_app.config)
    return context


def attempt(mail_id: int, lease: datetime, now: datetime, transport: Transport) -> str | None:
    """Make one attempt of a claimed message; its outcome (sent, retrying, failed, skipped),
    or None when another caller holds it now."""
    mail = begin_attempt(mail_id, lease, now)
    if mail is None:
        return None
    number, template = mail.attempts, mail.template
    with request_id_bound(mail.request_id):  # its lines join the request that caused it
        outcome, error = send_one(mail, transport, now)
        MAIL_MESSAGES.labels(outcome).inc()
        log.log(
            logging.WARNING if error else logging.INFO,
            "mail: attempt %d of message %d (%s): %s%s",
            number,
            mail_id,
            template,
            outcome,
            f" ({error})" if error else "",
            extra={
                "fields": {
                    "mail_id": mail_id,
                    "template": template,
                    "attempt": number,
                    "outcome": outcome,
                }
            },
        )
    return outcome


def send_one(mail: OutgoingMail, transport: Transport, now: datetime) -> tuple[str, str | None]:
    """Prepare, compose and send a message this caller holds, and record it; the outcome,
    and why the attempt failed if it did."""
    mail_id, template = mail.id, mail.template
    try:
        context = prepared_context(mail)
        if context is None:
            return finish(mail_id, "skipped", now), None
        message = compose(
            template, mail.to_address, context, current_app.config, message_id=mail.message_id
        )
        mail.subject = str(message["Subject"])
        db.session.commit()
    except Exception as error:  # a preparer's or a template's bug: logged, and retried
        db.session.rollback()
        log.exception("mail: message %d (%s) could not be prepared", mail_id, template)
        reason = f"preparing failed: {error!r}"
        return retry_or_fail(mail_id, reason, now), reason
    try:
        transport.send(message)
    except SendFailed as failure:
        return retry_or_fail(mail_id, str(failure), now, permanent=failure.permanent), str(failure)
    # Its own commit, and nothing between it and the server's yes that could undo it.
    return finish(mail_id, "sent", now), None


def finish(mail_id: int, status: str, now: datetime, error: str | None = None) -> str:
    """Record a message as done (sent, skipped or failed), its context wiped: it may hold a
    one-time token nobody needs any more."""
    db.session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == mail_id)
        .values(
            status=status,
            sent_at=now if status == "sent" else None,
            context=None,
            leased_until=None,
            last_error=error,
        )
    )
    db.session.commit()
    return status


def retry_or_fail(mail_id: int, error: str, now: datetime, *, permanent: bool = False) -> str:
    """Put a failed attempt's message back for later with backoff, or fail it when the
    failure is permanent or its retries are spent."""
    mail = db.session.get_one(OutgoingMail, mail_id, populate_existing=True)
    if permanent or mail.attempts > len(RETRY_DELAYS):
        return finish(mail_id, "failed", now, error)
    delay = RETRY_DELAYS[mail.attempts - 1] * random.uniform(0.8, 1.2)
    mail.due_at, mail.leased_until = now + timedelta(seconds=delay), None
    mail.last_error = error[:500]
    db.session.commit()
    return "retrying"


def send_due_mail(now: datetime | None = None, limit: int = 100) -> int:
    """Send every due message at once with the configured transport, by the worker's claim
    and retry rules; how many were sent (none when mail is off)."""
    now = now or utcnow()
    try:
        transport = transport_for(current_app.config)
    except MailOff:
        return 0
    outcomes = [attempt(mail_id, lease, now, transport) for mail_id, lease in claim_due(now, limit)]
    return outcomes.count("sent")
