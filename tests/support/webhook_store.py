"""Webhooks as the admin API stores them (its secret sealed with SECRET_KEY), and the relay and
deliveries run in the test's own process."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from blogapi.db.webhook_models import Webhook, WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from blogapi.webhooks.delivery import deliver
from blogapi.webhooks.relay import relay_round
from blogapi.webhooks.signing_secrets import new_secret, seal


def add_webhook(app: Flask, url: str, events: list[str], **columns: Any) -> tuple[int, str]:
    """A webhook stored as POST /webhooks stores one; its id and its secret (whsec_…)."""
    secret = new_secret()
    with app.app_context():
        now = utcnow()
        webhook = Webhook(
            url=url,
            events=" ".join(events),
            description=columns.pop("description", ""),
            secret=seal(secret),
            created_at=now,
            updated_at=now,
            **columns,
        )
        db.session.add(webhook)
        db.session.commit()
        return webhook.id, secret


def run_relay(app: Flask) -> int:
    """One relay round that delivers at once what it queues; how many it queued."""
    with app.app_context():
        return relay_round(lambda delivery_id, _when: deliver(delivery_id))


def outbox(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """The webhooks, events and deliveries tables, row by row, in id order."""
    with app.app_context():
        found = {
            model.__tablename__: [
                dict(row)
                for row in db.session.execute(
                    select(model.__table__).order_by(model.__table__.c.id)
                ).mappings()
            ]
            for model in (Webhook, WebhookEvent, WebhookDelivery)
        }
        db.session.rollback()
    return found
