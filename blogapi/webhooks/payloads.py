"""What a delivery says: `{"type", "timestamp", "data"}`, with the post or media as the API
shows it at fan-out time. A go-live that no longer holds (the post left before its event was
fanned out) has no payload: the event is void."""

from __future__ import annotations

from typing import Any

import orjson

from blogapi.db.webhook_models import Webhook, WebhookEvent
from blogapi.media.schemas import media_schema
from blogapi.media.service import find_media
from blogapi.posts.schemas import post_schema
from blogapi.posts.service import load_post
from blogapi.timeutil import isoformat_z


def post_data(post_id: int | None) -> dict[str, Any] | None:
    """The post (live or in the trash) as the API shows it; None when it is gone for good."""
    if post_id is None:
        return None
    post = load_post(str(post_id)) or load_post(str(post_id), trashed=True)
    if post is None:
        return None
    data: dict[str, Any] = post_schema.dump(post)
    data["deleted"] = post.deleted_at is not None
    return data


def is_live(data: dict[str, Any] | None) -> bool:
    """Whether the dumped post is published and out of the trash."""
    return data is not None and data["status"] == "published" and not data["deleted"]


def event_data(event: WebhookEvent, webhook: Webhook | None) -> dict[str, Any] | None:
    """The event's `data`, or None when the event is void."""
    if event.type == "ping":
        target = webhook.id if webhook is not None else event.webhook_id
        return {"webhook_id": target, "message": "ping"}
    if event.type == "media.created":
        media = find_media(event.subject_id) if event.subject_id is not None else None
        return media_schema.dump(media) if media is not None else {"id": event.subject_id}
    data = post_data(event.subject_id)
    if event.type == "post.published":
        return data if is_live(data) else None
    return data if data is not None else {"id": event.subject_id, "deleted": True}


def event_body(event: WebhookEvent, webhook: Webhook | None = None) -> bytes | None:
    """The JSON bytes every attempt of this event sends; None when the event is void."""
    data = event_data(event, webhook)
    if data is None:
        return None
    timestamp = isoformat_z(event.due_at)
    return orjson.dumps({"type": event.type, "timestamp": timestamp, "data": data})
