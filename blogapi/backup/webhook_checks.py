"""What an import checks of webhook records against each other, beyond their references:
each pending delivery can be sent, once per webhook, as the relay would have made it."""

from __future__ import annotations

from typing import Any


class WebhookChecks:
    """Remembers the events on earlier lines, to check the deliveries that follow them."""

    def __init__(self, problem: type[Exception]) -> None:
        """Report bad records as `problem`s."""
        self.problem = problem
        self.events: dict[int, tuple[bool, int | None, int]] = {}  # id -> sendable, ping's, line
        self.pairs: dict[tuple[int, int], int] = {}  # (webhook_id, event_id) -> line

    def check(self, number: int, kind: str, data: dict[str, Any]) -> None:
        """Note an event; refuse a delivery that could not be sent, or is there twice."""
        if kind == "webhook_event":
            sendable = data["dispatched_at"] is not None and data["payload"] is not None
            self.events[data["id"]] = (sendable, data["webhook_id"], number)
            return
        if kind != "webhook_delivery":
            return
        event_id, webhook_id = data["event_id"], data["webhook_id"]
        sendable, ping_for, line = self.events[event_id]  # references are checked first
        if not sendable:
            # The relay would fan it out again and make this delivery a second time.
            raise self.problem(
                f"line {number}: a delivery of webhook event {event_id} (line {line}), which "
                "was not fanned out with a payload"
            )
        if ping_for is not None and ping_for != webhook_id:
            raise self.problem(
                f"line {number}: a delivery to webhook {webhook_id} of a ping for webhook "
                f"{ping_for} (line {line})"
            )
        pair = (webhook_id, event_id)
        if pair in self.pairs:
            raise self.problem(
                f"line {number}: webhook event {event_id} is already delivered to webhook "
                f"{webhook_id} on line {self.pairs[pair]}"
            )
        self.pairs[pair] = number
