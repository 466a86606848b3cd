"""Wiring mail into the app: its table joins the metadata, and its admin command the CLI."""

from __future__ import annotations

from flask import Flask

from blogapi.db import mail_models as _mail_models  # noqa: F401  (the outbox table)


def init_mail(app: Flask) -> None:
    """Nothing per app yet: the transport is read from the config at each round."""
