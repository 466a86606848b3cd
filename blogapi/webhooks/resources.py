"""WebhookList, WebhookItem, WebhookDeliveries, WebhookRedeliver and WebhookPing: webhooks for
admins (never a personal access token)."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_restful import Resource

from blogapi.db.webhook_models import Webhook
from blogapi.security.guards import role, signed_in
from blogapi.security.ratelimit import per_user, post_write_limit
from blogapi.web.api import no_content
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.paging import PageQuerySchema, page_response
from blogapi.webhooks import service
from blogapi.webhooks.schemas import (
    NewWebhookSchema,
    PingSchema,
    RedeliverySchema,
    WebhookChangeSchema,
    WebhookDeliveryPageSchema,
    WebhookRequestSchema,
    WebhookSchema,
    attempt_json,
    ping_schema,
    redelivery_schema,
    webhook_json,
)

ADMIN = role("admin")  # a personal access token is refused (403) by a guard without a scope
TAG = "webhooks"
ADMINS_ONLY = "Only admins manage webhooks (and never with a personal access token)."
NO_WEBHOOK = "No such webhook."
BAD_URL = "Invalid fields, or a URL that is not http(s), has a user name, or is not public."
WRITES = per_user(post_write_limit, "webhook-write")


def webhook_or_404(webhook_id: int) -> Webhook:
    """The webhook with this id, else 404."""
    webhook = service.find_webhook(webhook_id)
    if webhook is None:
        raise ApiError(404, NO_WEBHOOK)
    return webhook


class WebhookList(Resource):
    """Every webhook, and registering one."""

    @endpoint(
        summary="List webhooks",
        description="Every webhook, oldest first, never their secrets. Admins only.",
        tag=TAG,
        auth=ADMIN,
        responses={200: Reply(WebhookSchema(many=True), "The webhooks."), 403: ADMINS_ONLY},
    )
    def get(self) -> list[dict[str, Any]]:
        """Every webhook."""
        return [webhook_json(webhook) for webhook in service.all_webhooks()]

    @endpoint(
        summary="Register a webhook",
        description="Deliveries of the chosen events (and pings) go to `url` as signed "
        "Standard Webhooks POSTs. The signing secret is in this reply only. The URL must be "
        "http(s), without user name or password, to a host that is and resolves to a public "
        "address (unless WEBHOOK_ALLOW_PRIVATE). Admins only; 409 at 50 webhooks.",
        tag=TAG,
        auth=ADMIN,
        body=WebhookRequestSchema,
        example={
            "url": "https://example.com/hooks/blog",
            "events": ["post.published", "post.updated"],
            "description": "Rebuild the static site",
        },
        limits=WRITES,
        responses={
            201: Reply(NewWebhookSchema, "The webhook, with its secret.", ("Location",)),
            403: ADMINS_ONLY,
            409: "There are 50 webhooks already.",
            422: BAD_URL,
        },
    )
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Register a webhook and show its secret once."""
        webhook, secret = service.create_webhook(
            signed_in(), body["url"], body["events"], body["description"]
        )
        location = url_for("webhook_item", webhook_id=webhook.id)
        return webhook_json(webhook, secret), 201, {"Location": location}


class WebhookItem(Resource):
    """One webhook."""

    @endpoint(
        summary="Show a webhook",
        description="Its target, events and state; never its secret. Admins only.",
        tag=TAG,
        auth=ADMIN,
        responses={200: Reply(WebhookSchema, "The webhook."), 403: ADMINS_ONLY, 404: NO_WEBHOOK},
    )
    def get(self, webhook_id: int) -> dict[str, Any]:
        """The webhook."""
        return webhook_json(webhook_or_404(webhook_id))

    @endpoint(
        summary="Change a webhook",
        description="Any of url (checked again), events, description and active. `active: "
        "true` turns a webhook back on (after a 410 or too long failing) and clears "
        "failing_since and disabled_reason. Admins only.",
        tag=TAG,
        auth=ADMIN,
        body=WebhookChangeSchema,
        example={"active": True},
        limits=WRITES,
        responses={
            200: Reply(WebhookSchema, "The changed webhook."),
            403: ADMINS_ONLY,
            404: NO_WEBHOOK,
            422: BAD_URL,
        },
    )
    def patch(self, webhook_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Change the webhook."""
        webhook = service.change_webhook(signed_in(), webhook_or_404(webhook_id), body)
        return webhook_json(webhook)

    @endpoint(
        summary="Delete a webhook",
        description="Its pending deliveries and its delivery log go with it. Admins only.",
        tag=TAG,
        auth=ADMIN,
        limits=WRITES,
        responses={204: Reply(None, "Deleted."), 403: ADMINS_ONLY, 404: NO_WEBHOOK},
    )
    def delete(self, webhook_id: int) -> Response:
        """Delete the webhook."""
        service.delete_webhook(signed_in(), webhook_or_404(webhook_id))
        return no_content()


class WebhookDeliveries(Resource):
    """A webhook's delivery log: one entry per attempt."""

    @endpoint(
        summary="List a webhook's deliveries",
        description="Every attempt of the last 30 days, newest first: the event, its id (the "
        "`webhook-id` sent), the answer's status, the error, how long it took and when the "
        "next retry is due. Admins only.",
        tag=TAG,
        auth=ADMIN,
        query=PageQuerySchema,
        responses={
            200: Reply(WebhookDeliveryPageSchema, "A page of attempts.", ("Link", "X-Total-Count")),
            403: ADMINS_ONLY,
            404: NO_WEBHOOK,
        },
    )
    def get(
        self, webhook_id: int, query: dict[str, Any]
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of the webhook's attempts."""
        page, per_page = query["page"], query["per_page"]
        attempts, total = service.attempt_page(webhook_or_404(webhook_id), page, per_page)
        items = [attempt_json(logged) for logged in attempts]
        return page_response(items, page=page, per_page=per_page, total=total)


class WebhookRedeliver(Resource):
    """Sending a logged event again."""

    @endpoint(
        summary="Redeliver an event",
        description="The event of this logged attempt goes out again, with the same "
        "`webhook-id`, as soon as a worker takes it. 409 while the webhook is turned off. "
        "Admins only.",
        tag=TAG,
        auth=ADMIN,
        limits=WRITES,
        responses={
            202: Reply(RedeliverySchema, "The event is on its way again."),
            403: ADMINS_ONLY,
            404: "No such webhook, or no such delivery of it.",
            409: "The webhook is turned off.",
        },
    )
    def post(self, webhook_id: int, delivery_id: int) -> tuple[dict[str, Any], int]:
        """Queue the attempt's event again."""
        webhook = webhook_or_404(webhook_id)
        event_id = service.redeliver(webhook, delivery_id)
        reply = {"event_id": event_id, "webhook_id": webhook.id, "state": "pending"}
        return redelivery_schema.dump(reply), 202


class WebhookPing(Resource):
    """A test event for one webhook."""

    @endpoint(
        summary="Ping a webhook",
        description="Sends it a `ping` event (even while it is turned off, to try a target "
        "before turning it on); the delivery shows in its log. Admins only.",
        tag=TAG,
        auth=ADMIN,
        limits=WRITES,
        responses={
            202: Reply(PingSchema, "The ping is on its way."),
            403: ADMINS_ONLY,
            404: NO_WEBHOOK,
        },
    )
    def post(self, webhook_id: int) -> tuple[dict[str, Any], int]:
        """Queue a ping."""
        webhook = webhook_or_404(webhook_id)
        reply = {"event_id": service.ping(webhook), "webhook_id": webhook.id}
        return ping_schema.dump(reply), 202
