"""Naming database failures without leaking statement data."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError


def driver_reason(error: Exception) -> str:
    """The driver's name for a database error: its class and SQLSTATE or SQLite code, no data."""
    orig = getattr(error, "orig", None) or error
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    if code:
        return f"{type(orig).__name__} ({code})"
    # No code means the connection itself failed (refused, shutting down, closed): the driver's
    # first line says which, and holds no statement or parameters.
    first_line = (str(orig).splitlines() or [""])[0].strip()
    return f"{type(orig).__name__}: {first_line[:200]}" if first_line else type(orig).__name__


def is_disconnect(error: Exception) -> bool:
    """Whether a database error means the server could not be reached."""
    if isinstance(error, OperationalError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)
