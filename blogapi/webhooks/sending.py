"""One delivery attempt over HTTP: a signed POST to a public address (checked again at connect
time), 10 seconds in all, no redirects followed."""

from __future__ import annotations

import time
from dataclasses import dataclass

from blogapi.security.outbound import OutboundFailed, OutboundRefused, fetch
from blogapi.webhooks.signing import signed_headers

TIMEOUT = 10.0
MAX_ANSWER = 1024 * 1024  # what a receiver may answer with; more is a failed attempt


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: the status (None when no answer came), an error, its length."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        """A 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


def attempt(
    url: str,
    body: bytes,
    secret: str,
    msg_id: str,
    *,
    allow_private: bool,
    timeout: float = TIMEOUT,
) -> Outcome:
    """POST the signed body to url once."""
    headers = signed_headers(secret, msg_id, int(time.time()), body)
    started = time.monotonic()
    try:
        answer = fetch(
            url,
            method="POST",
            body=body,
            headers=headers,
            timeout=timeout,
            max_bytes=MAX_ANSWER,
            allow_private=allow_private,
        )
    except (OutboundFailed, OutboundRefused) as failure:
        return Outcome(None, str(failure)[:500], elapsed_ms(started))
    problem = None
    if 300 <= answer.status < 400:
        where = answer.headers.get("Location", "")[:200]
        problem = f"Redirects are not followed ({answer.status} to {where!r})."
    elif not 200 <= answer.status < 300:
        problem = f"The receiver answered {answer.status}."
    return Outcome(answer.status, problem, elapsed_ms(started))


def elapsed_ms(started: float) -> int:
    """Milliseconds since `started` (time.monotonic)."""
    return round((time.monotonic() - started) * 1000)
