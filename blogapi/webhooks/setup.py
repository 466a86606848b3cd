"""Wiring webhooks into the app: the outbox listener, and the worker's CLI commands."""

from __future__ import annotations

from flask import Flask

from blogapi.webhooks import outbox as _outbox  # noqa: F401  (the session listener)


def init_webhooks(app: Flask) -> None:
    """Nothing per app yet: the outbox listens on every session once imported."""
