"""UTC time helpers shared by models, schemas and tokens."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


def isoformat_z(value: datetime | None) -> str | None:
    """ISO 8601 UTC with a `Z`, as the contract writes timestamps."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
