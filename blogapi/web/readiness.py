"""Readiness: may this instance take traffic? Its database answers, its Redis answers (when it
has one), the database is at the migration head its code ends at, and the worker's jobs
(webhook work and mail) that are due and not done stay within READY_MAX_BACKLOG. Each check
is bounded in time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from blogapi.db.backlog import due_backlog
from blogapi.db.errors import driver_reason
from blogapi.db.migrations import DIRECTORY_KEY
from blogapi.db.revisions import code_history, stored_revisions
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from blogapi.web.redis_ping import configured_redis, ping

OK = "ok"
NOT_CONFIGURED = "not configured"
PASSING = (OK, NOT_CONFIGURED)
NOT_CHECKED = "not checked: the database is unavailable"
# PostgreSQL: no statement of the probe runs longer (connecting is DATABASE_CONNECT_TIMEOUT's).
STATEMENT_TIMEOUT_MS = 2000
DEFAULT_MAX_BACKLOG = 1000
log = logging.getLogger("blogapi.health")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Readiness:
    """Each check's result ("ok", "not configured", or why it failed), and the backlog
    (None when it could not be counted)."""

    checks: dict[str, str]
    backlog: int | None

    @property
    def failed(self) -> list[str]:
        """The checks that failed, in order (not those left unchecked for another's failure)."""
        return [
            name
            for name, result in self.checks.items()
            if result not in PASSING and result != NOT_CHECKED
        ]


def readiness() -> Readiness:
    """Run every check."""
    config = current_app.config
    limit: int = config.get("READY_MAX_BACKLOG", DEFAULT_MAX_BACKLOG)
    checks = {"database": OK, "redis": redis_check(config), "migrations": NOT_CHECKED}
    checks["queue"] = NOT_CHECKED
    backlog = None
    database = in_transaction(lambda connection: connection.execute(text("SELECT 1")))
    if isinstance(database, SQLAlchemyError):
        checks["database"] = f"unavailable: {error_name(database)}"
    else:
        revision = in_transaction(migrations_check)
        checks["migrations"] = (
            f"cannot be read: {error_name(revision)}"
            if isinstance(revision, SQLAlchemyError)
            else revision
        )
        # Counted one past the limit: enough to know it is over.
        counted = in_transaction(lambda connection: due_backlog(connection, utcnow(), limit + 1))
        if isinstance(counted, SQLAlchemyError):
            checks["queue"] = f"cannot be counted: {error_name(counted)}"
        else:
            backlog = counted
            checks["queue"] = queue_check(counted, limit)
    return Readiness(checks, backlog)


def in_transaction(check: Callable[[Connection], Result]) -> Result | SQLAlchemyError:
    """Run one check in a transaction of its own (a failed statement ends a PostgreSQL
    transaction), its statements bounded in time; the database's error, if it raised one."""
    try:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL statement_timeout = {statement_timeout_ms()}"))
        return check(connection)
    except SQLAlchemyError as error:
        log.warning("readiness: database error: %s", driver_reason(error))
        return error
    finally:
        db.end_session()


def statement_timeout_ms() -> int:
    """The probe's statement timeout: STATEMENT_TIMEOUT_MS, or DATABASE_STATEMENT_TIMEOUT's
    if that is shorter."""
    configured = int(current_app.config.get("DATABASE_STATEMENT_TIMEOUT") or 0) * 1000
    return min(STATEMENT_TIMEOUT_MS, configured) if configured else STATEMENT_TIMEOUT_MS


def error_name(error: SQLAlchemyError) -> str:
    """A database error's class and code, with none of its message (which may name hosts)."""
    orig = getattr(error, "orig", None) or error
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    return f"{type(orig).__name__} ({code})" if code else type(orig).__name__


def redis_check(config: Any) -> str:
    """ "ok" when every configured Redis answers, "not configured" when there is none."""
    urls = configured_redis(config)
    if not urls:
        return NOT_CONFIGURED
    failures = [f"{name}: {reason}" for name, url in urls.items() if (reason := ping(url))]
    return "; ".join(failures) or OK


def migrations_check(connection: Connection) -> str:
    """ "ok" when the database records the head revision of the code's migrations, or one this
    code does not know: a newer release's, migrated first in a rolling deploy (DEPLOY.md §4),
    whose schema the old code still works with until it is replaced."""
    directory = current_app.extensions.get(DIRECTORY_KEY)
    history = code_history(directory) if directory else None
    if history is None or not history.heads:
        return "this code's migrations cannot be read"
    stored = stored_revisions(connection)
    if not stored:
        return (
            "the database records no migration revision: run manage.py db upgrade "
            "(or manage.py db stamp head for a schema built another way)"
        )
    if stored == history.heads or not stored <= history.revisions:
        return OK
    at, head = ", ".join(sorted(stored)), ", ".join(sorted(history.heads))
    return f"the database is at {at}, behind this code's {head}: run manage.py db upgrade"


def queue_check(backlog: int, limit: int) -> str:
    """ "ok" while the backlog is at most `limit`."""
    if backlog <= limit:
        return OK
    return (
        f"more than {limit} jobs (webhooks and mail) are due and not done (READY_MAX_BACKLOG): "
        "is a worker running, and keeping up?"
    )
