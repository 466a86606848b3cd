"""The content version: bumped by database triggers (dbtriggers.py) in every writing
transaction that changes what readers see.

Every worker on every host reads it (one primary-key lookup) before trusting its in-memory
copy of a public response, so a write is visible to the very next read anywhere.
"""

from __future__ import annotations

from sqlalchemy import select

from blogapi.extensions import db
from blogapi.models import ContentVersion

ROW_ID = 1


def current_version() -> int:
    """The content version as committed now (0 before the first write)."""
    return db.session.scalar(select(ContentVersion.value).where(ContentVersion.id == ROW_ID)) or 0
