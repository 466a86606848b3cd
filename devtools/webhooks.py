"""Webhook set-up and accounting for load tests and benchmarks, straight in the database: a
webhook registered the way the server stores one (its secret sealed with the instance's
SECRET_KEY), and what the outbox and the delivery log hold afterwards."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import create_engine, text

from blogapi.timeutil import utcnow
from blogapi.webhooks.signing_secrets import new_secret, seal


def add_webhook(database_url: str, secret_key: str, url: str, events: list[str]) -> str:
    """Subscribe `url` to `events`; the whsec_ secret its deliveries are signed with."""
    secret = new_secret()
    now = utcnow()
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO webhooks (url, events, description, secret, active,"
                    " created_at, updated_at) VALUES (:url, :events, '', :secret, :active,"
                    " :now, :now)"
                ),
                {
                    "url": url,
                    "events": " ".join(events),
                    "secret": seal(secret, secret_key),
                    "active": True,
                    "now": now,
                },
            )
    finally:
        engine.dispose()
    return secret


@dataclass(frozen=True)
class Outbox:
    """The event rows for posts, by (post id, type), and each event's uid."""

    per_post: Counter[tuple[int, str]]
    uids: dict[str, tuple[int, str]]  # uid -> (post id, type)
    deliveries: Counter[str]  # delivery states


def read_outbox(database_url: str, types: list[str]) -> Outbox:
    """Every event of these types the outbox holds, and how the deliveries stand."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT uid, subject_id, type FROM webhook_events WHERE webhook_id IS NULL")
            ).all()
            states = conn.execute(
                text("SELECT state, count(*) FROM webhook_deliveries GROUP BY state")
            ).all()
    finally:
        engine.dispose()
    events = [(uid, post, kind) for uid, post, kind in rows if kind in types]
    return Outbox(
        per_post=Counter((post, kind) for _, post, kind in events),
        uids={uid: (post, kind) for uid, post, kind in events},
        deliveries=Counter({state: count for state, count in states}),
    )
