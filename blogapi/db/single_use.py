"""Spending a one-time secret's row (an authorization code, a mailed link's token) exactly once,
whichever of two racing requests gets there first."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session, scoped_session

from blogapi.timeutil import utcnow


def spend_once(session: Session | scoped_session[Any], model: Any, row_id: int) -> bool:
    """Mark the row used now (caller commits); False when another request marked it first."""
    marked = cast(
        CursorResult[Any],
        session.execute(
            update(model)
            .where(model.id == row_id, model.used_at.is_(None))
            .values(used_at=utcnow())
        ),
    )
    return marked.rowcount == 1
