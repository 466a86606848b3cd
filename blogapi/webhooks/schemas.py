"""Schemas for the webhooks admin API: subscriptions, their delivery log, redeliver and ping."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields, validate

from blogapi.db.webhook_models import SUBSCRIBABLE
from blogapi.web.fields import (
    StrictBoolean,
    StrictSchema,
    TrimmedString,
    UTCDateTimeField,
    one_line,
)
from blogapi.web.schemas import page_of

if TYPE_CHECKING:
    from blogapi.db.webhook_models import Webhook, WebhookAttempt

# What a webhook may subscribe to: every webhook hears its own pings without asking.
URL_MAX = 2048
DESCRIPTION_MAX = 500


def known_distinct_events(events: list[str]) -> None:
    """Refuse unknown event types and repeats, reported under `events` itself."""
    unknown = [event for event in events if event not in SUBSCRIBABLE]
    if unknown:
        raise ValidationError(
            f"Unknown event type {unknown[0][:40]!r}; choose from {', '.join(SUBSCRIBABLE)}."
        )
    if len(set(events)) != len(events):
        raise ValidationError("Name each event type once.")


def events_field(**kwargs: Any) -> fields.List[Any]:
    """The subscribed event types: 1 to 6 distinct ones (the enum documents, the list checks)."""
    return fields.List(
        fields.String(metadata={"enum": list(SUBSCRIBABLE)}),
        validate=[validate.Length(min=1, max=len(SUBSCRIBABLE)), known_distinct_events],
        metadata={
            "uniqueItems": True,
            "description": "Event types to hear about (`ping` needs no subscription).",
        },
        **kwargs,
    )


def url_field(**kwargs: Any) -> fields.String:
    """The target: an absolute http(s) URL to a public address (the service checks where)."""
    return fields.String(
        validate=validate.Length(min=1, max=URL_MAX),
        metadata={
            "format": "uri",
            "description": "An absolute http(s) URL without user name or password, to a public "
            "address (unless WEBHOOK_ALLOW_PRIVATE).",
        },
        **kwargs,
    )


def description_field(**kwargs: Any) -> TrimmedString:
    """What the webhook is for, one line."""
    return TrimmedString(
        validate=[validate.Length(max=DESCRIPTION_MAX), one_line],
        metadata={"description": "What the webhook is for."},
        **kwargs,
    )


class WebhookRequestSchema(StrictSchema):
    """POST /webhooks."""

    url = url_field(required=True)
    events = events_field(required=True)
    description = description_field(load_default="")


class WebhookChangeSchema(StrictSchema):
    """PATCH /webhooks/{id}: any of these; `active: true` turns a webhook back on."""

    url = url_field()
    events = events_field()
    description = description_field()
    active = StrictBoolean(
        metadata={"description": "false stops its deliveries; true turns it back on."}
    )


class WebhookSchema(StrictSchema):
    """A webhook as admins see it: never its secret, except once at creation."""

    id = fields.Integer(dump_only=True, required=True)
    url = fields.String(dump_only=True, required=True)
    events = fields.List(
        fields.String(validate=validate.OneOf(SUBSCRIBABLE)), dump_only=True, required=True
    )
    description = fields.String(dump_only=True, required=True)
    active = fields.Boolean(dump_only=True, required=True)
    created_at = UTCDateTimeField(dump_only=True, required=True)
    updated_at = UTCDateTimeField(dump_only=True, required=True)
    failing_since = UTCDateTimeField(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "Since when every attempt has failed; null after a success."},
    )
    disabled_reason = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "Why it was turned off (a 410, failing too long, an admin)."},
    )


class NewWebhookSchema(WebhookSchema):
    """A webhook just made: the only time its signing secret is shown."""

    secret = fields.String(
        dump_only=True,
        required=True,
        metadata={
            "description": "`whsec_` and 256 random bits, base64: verify deliveries with it "
            "(Standard Webhooks). Shown only now."
        },
    )


class WebhookDeliverySchema(StrictSchema):
    """One attempt to deliver an event to a webhook."""

    id = fields.Integer(dump_only=True, required=True)
    event_id = fields.String(
        dump_only=True,
        required=True,
        metadata={"description": "The event's id, sent as `webhook-id` on every attempt."},
    )
    event = fields.String(dump_only=True, required=True, metadata={"description": "Its type."})
    attempt = fields.Integer(dump_only=True, required=True)
    status_code = fields.Integer(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "The receiver's answer; null when none came (or not yet)."},
    )
    error = fields.String(dump_only=True, required=True, allow_none=True)
    duration_ms = fields.Integer(dump_only=True, required=True, allow_none=True)
    created_at = UTCDateTimeField(dump_only=True, required=True)
    next_attempt_at = UTCDateTimeField(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "When the next retry is due; null when none is."},
    )


WebhookDeliveryPageSchema = page_of(WebhookDeliverySchema, "WebhookDeliveryPage")


class PingSchema(StrictSchema):
    """POST /webhooks/{id}/ping's reply: the event on its way."""

    event_id = fields.String(dump_only=True, required=True)
    webhook_id = fields.Integer(dump_only=True, required=True)


class RedeliverySchema(PingSchema):
    """POST …/redeliver's reply: the event goes out again, with the same id."""

    state = fields.String(dump_only=True, required=True, validate=validate.OneOf(["pending"]))


webhook_schema = WebhookSchema()
new_webhook_schema = NewWebhookSchema()
delivery_schema = WebhookDeliverySchema()
ping_schema = PingSchema()
redelivery_schema = RedeliverySchema()


def webhook_json(webhook: Webhook, secret: str | None = None) -> dict[str, Any]:
    """A webhook as the API shows it (the secret only when just made)."""
    values = {
        "id": webhook.id,
        "url": webhook.url,
        "events": webhook.event_list,
        "description": webhook.description,
        "active": webhook.active,
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
        "failing_since": webhook.failing_since,
        "disabled_reason": webhook.disabled_reason,
    }
    if secret is None:
        shown: dict[str, Any] = webhook_schema.dump(values)
        return shown
    made: dict[str, Any] = new_webhook_schema.dump({**values, "secret": secret})
    return made


def attempt_json(logged: WebhookAttempt) -> dict[str, Any]:
    """One logged attempt as the delivery log shows it."""
    shown: dict[str, Any] = delivery_schema.dump(
        {
            "id": logged.id,
            "event_id": logged.event_uid,
            "event": logged.event_type,
            "attempt": logged.attempt,
            "status_code": logged.status_code,
            "error": logged.error,
            "duration_ms": logged.duration_ms,
            "created_at": logged.created_at,
            "next_attempt_at": logged.next_attempt_at,
        }
    )
    return shown
