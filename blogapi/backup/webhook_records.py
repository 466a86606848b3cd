"""The webhook records of an export (format 8): the webhooks as stored, the events still to be
fanned out or delivered, and their pending deliveries.

A webhook's secret stays sealed as stored: it signs again after an import on an instance with
the same SECRET_KEY (with another key the webhook must be recreated). Delivered and failed
deliveries, and the log of attempts, are history and stay behind.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from blogapi.backup.record_fields import ID, required_id, text, timestamp
from blogapi.db.webhook_models import EVENT_TYPES, SUBSCRIBABLE
from blogapi.observability.request_ids import ACCEPTED as REQUEST_ID
from blogapi.security.outbound import OutboundFailed, OutboundRefused, check_url
from blogapi.web.cursors import MAX_ID
from blogapi.web.fields import StrictSchema, UTCDateTimeField

URL_MAX = 2048
PAYLOAD_MAX = 4_000_000  # a post of the largest body the API takes, as JSON, with room
SEALED = re.compile(r"[A-Za-z0-9_=-]{1,1000}\Z")  # a Fernet token: URL-safe base64
EVENT_UID = re.compile(r"msg_[A-Za-z0-9_-]{1,36}\Z")  # new_event_uid's, in the column's 40


def nullable_time() -> UTCDateTimeField:
    """A time that is given, and may be null."""
    return UTCDateTimeField(required=True, allow_none=True)


def nullable_id() -> fields.Integer:
    """An id that is given, and may be null."""
    return fields.Integer(required=True, strict=True, allow_none=True, validate=ID)


class WebhookRecord(StrictSchema):
    """A webhook, every column as stored: its secret sealed with the exporting SECRET_KEY."""

    id = required_id()
    url = text(1, URL_MAX)
    events = text(1, 500)
    description = text(0, 500)
    secret = fields.String(
        required=True, validate=validate.Regexp(SEALED, error="Not a sealed secret.")
    )
    active = fields.Boolean(required=True, truthy={True}, falsy={False})
    created_at = timestamp()
    updated_at = timestamp()
    failing_since = nullable_time()
    disabled_reason = fields.String(
        required=True, allow_none=True, validate=validate.Length(max=200)
    )

    @validates("url")
    def _a_url_to_send_to(self, value: str, **_kwargs: Any) -> None:
        # Its shape only: whether the address is public is checked when a delivery connects.
        try:
            check_url(value, allow_private=True)
        except (OutboundFailed, OutboundRefused) as exc:
            raise ValidationError(exc.detail) from None

    @validates("events")
    def _known_events(self, value: str, **_kwargs: Any) -> None:
        events = value.split(" ")
        if len(set(events)) != len(events) or not set(events) <= set(SUBSCRIBABLE):
            raise ValidationError(
                f"Not space-separated event types of {', '.join(SUBSCRIBABLE)}, each once."
            )


class WebhookEventRecord(StrictSchema):
    """An outbox row not yet fanned out (a scheduled go-live among them), or fanned out with
    deliveries still pending; its uid is the webhook-id every delivery of it is sent with."""

    id = required_id()
    uid = fields.String(
        required=True, validate=validate.Regexp(EVENT_UID, error="Not an event id (msg_…).")
    )
    # Written as "event": every record's "type" says what kind of record it is.
    type = fields.String(required=True, data_key="event", validate=validate.OneOf(EVENT_TYPES))
    subject_id = nullable_id()
    webhook_id = nullable_id()
    created_at = timestamp()
    due_at = timestamp()
    dispatched_at = nullable_time()
    payload = fields.String(
        required=True, allow_none=True, validate=validate.Length(min=1, max=PAYLOAD_MAX)
    )
    # Optional: exports written before request ids were kept have none.
    request_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(REQUEST_ID, error="Not a request id."),
    )

    @validates_schema
    def _what_it_is_about(self, data: dict[str, Any], **_kwargs: Any) -> None:
        # A ping is for one webhook and about nothing; every other event is about a post or
        # a media item and goes to every subscriber.
        if "type" not in data:
            return
        ping = data["type"] == "ping"
        if ping != (data.get("webhook_id") is not None):
            raise ValidationError("A ping, and only a ping, names its webhook.", "webhook_id")
        if ping != (data.get("subject_id") is None):
            raise ValidationError("Every event but a ping names its subject.", "subject_id")

    @validates_schema
    def _payload_once_fanned_out(self, data: dict[str, Any], **_kwargs: Any) -> None:
        payload = data.get("payload")
        if payload is None:
            return
        if data.get("dispatched_at") is None:
            raise ValidationError("An event not yet fanned out has no payload.", "payload")
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise ValidationError("Not JSON.", "payload") from None
        if not isinstance(body, dict) or body.get("type") != data.get("type"):
            raise ValidationError("Not a JSON object of the event's type.", "payload")


class WebhookDeliveryRecord(StrictSchema):
    """A pending delivery of an event to a webhook: how many attempts it has had and when the
    next is due. Import queues it again (no job, no lease)."""

    id = required_id()
    webhook_id = required_id()
    event_id = required_id()
    state = fields.String(
        required=True,
        validate=validate.OneOf(["pending"], error="Only pending deliveries are carried."),
    )
    attempts = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_ID)
    )
    next_attempt_at = timestamp()
    created_at = timestamp()
    updated_at = timestamp()


WEBHOOK_RECORDS: dict[str, StrictSchema] = {
    "webhook": WebhookRecord(),
    "webhook_event": WebhookEventRecord(),
    "webhook_delivery": WebhookDeliveryRecord(),
}
