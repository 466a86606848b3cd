"""A webhook receiver on 127.0.0.1 for load tests and benchmarks: checks each delivery's
signature with the Standard Webhooks reference library and records when each arrived."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks import Webhook as Verifier

from devtools.server import HOST


@dataclass(frozen=True)
class Delivery:
    """One verified delivery: its webhook-id, event type, post id, and arrival time."""

    msg_id: str
    type: str
    subject_id: int | None
    at: float  # time.monotonic() on arrival


class WebhookReceiver:
    """Answers 200 to every POST, keeping the verified ones; use it with `with`."""

    def __init__(self) -> None:
        """Bind a free loopback port; `secret` must be set before deliveries come."""
        self.secret = ""
        self.deliveries: list[Delivery] = []
        self.unverified = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.receive(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def receive(self, body: bytes, headers: dict[str, str]) -> None:
        """Verify and record one delivery."""
        at = time.monotonic()
        try:
            Verifier(self.secret).verify(body, headers)
        except Exception:  # the reference library's verification failure, whichever kind
            with self.lock:
                self.unverified += 1
            return
        event = orjson.loads(body)
        data = event.get("data") or {}
        delivery = Delivery(headers.get("webhook-id", ""), event["type"], data.get("id"), at)
        with self.lock:
            self.deliveries.append(delivery)

    def snapshot(self) -> list[Delivery]:
        """The verified deliveries so far."""
        with self.lock:
            return list(self.deliveries)

    def ids(self) -> set[str]:
        """The distinct webhook-ids received, verified."""
        return {d.msg_id for d in self.snapshot()}

    def __enter__(self) -> WebhookReceiver:
        """Start serving."""
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    """Serve from a process of its own (so that verifying costs the load generator no GIL):
    print the URL, read the secret from stdin, serve until stdin closes, then print how many
    deliveries were verified and how many were not."""
    with WebhookReceiver() as receiver:
        print(receiver.url, flush=True)
        receiver.secret = sys.stdin.readline().strip()
        sys.stdin.read()
        print(len(receiver.snapshot()), receiver.unverified, flush=True)


if __name__ == "__main__":
    main()
