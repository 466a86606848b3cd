"""The kinds of message that need work in the worker: a feature registers a preparer for its
template, called at the message's first attempt to fill its context (a one-time token made
there, not in the request) or to skip it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blogapi.db.mail_models import OutgoingMail

Preparer = Callable[[OutgoingMail], dict[str, Any] | None]
PREPARERS: dict[str, Preparer] = {}


def register_preparer(template: str, prepare: Preparer) -> None:
    """Have `prepare` fill the context of each `template` message before its first attempt
    (in the worker, in the app context and a transaction): it returns the context to add (kept
    for every retry) or None to skip the message. It may also readdress the message (set its
    `to_address`), which is kept with the context."""
    PREPARERS[template] = prepare


def preparer_for(template: str) -> Preparer | None:
    """The preparer registered for `template`, if any."""
    return PREPARERS.get(template)
