"""The roles, in order of power (config.ROLES, which DEFAULT_ROLE is checked against)."""

from config import ROLES

__all__ = ["RANK", "ROLES", "at_least"]

RANK = {name: rank for rank, name in enumerate(ROLES)}


def at_least(role: str, minimum: str) -> bool:
    """Whether `role` is `minimum` or above it."""
    return RANK.get(role, -1) >= RANK[minimum]
