"""The roles, in order of power, and what each may do."""

ROLES: tuple[str, ...] = ("contributor", "author", "editor", "admin")
RANK = {name: rank for rank, name in enumerate(ROLES)}


def at_least(role: str, minimum: str) -> bool:
    """Whether `role` is `minimum` or above it."""
    return RANK.get(role, -1) >= RANK[minimum]
