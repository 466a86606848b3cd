"""Webhook set-up and accounting for live tests and benchmarks: the first admin made from the
shell registers a webhook over the API, and afterwards the database says what the outbox and
the delivery log hold."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import create_engine, text

from devtools.live import ROOT

ADMIN_PASSWORD = "webhook admin passphrase 42"
TIMEOUT = 30


def create_admin(env: Mapping[str, str], name: str = "root", password: str = ADMIN_PASSWORD) -> str:
    """`manage.py create-user NAME --role admin`, as an operator makes the first admin."""
    subprocess.run(
        [
            *(sys.executable, "manage.py", "create-user", name),
            *("--email", f"{name}@example.com", "--role", "admin", "--password-stdin"),
        ],
        input=f"{password}\n",
        text=True,
        cwd=ROOT,
        env=dict(env),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return name


def log_in(api: str, name: str, password: str = ADMIN_PASSWORD) -> dict[str, str]:
    """Log in over HTTP; the Authorization header."""
    pair = requests.post(
        f"{api}/auth/login", json={"username": name, "password": password}, timeout=TIMEOUT
    )
    if pair.status_code != 200:
        raise RuntimeError(f"login as {name} failed: {pair.status_code} {pair.text[:200]}")
    return {"Authorization": f"Bearer {pair.json()['access_token']}"}


def register_webhook(
    api: str, admin: Mapping[str, str], url: str, events: list[str], description: str = ""
) -> dict[str, Any]:
    """An admin registers a webhook over the API; the reply, with its one-time secret."""
    created = requests.post(
        f"{api}/webhooks",
        json={"url": url, "events": events, "description": description},
        headers=dict(admin),
        timeout=TIMEOUT,
    )
    if created.status_code != 201:
        raise RuntimeError(f"webhook registration failed: {created.status_code} {created.text}")
    webhook: dict[str, Any] = created.json()
    return webhook


def admin_webhook(env: Mapping[str, str], api: str, url: str, events: list[str]) -> str:
    """The first admin made from the shell registers `url` for `events`; its secret."""
    secret: str = register_webhook(api, log_in(api, create_admin(env)), url, events)["secret"]
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
