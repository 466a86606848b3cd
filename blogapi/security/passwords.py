"""Password hashing with passlib: argon2id, bcrypt still verified, hashes upgraded on login."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from passlib.context import CryptContext

EXTENSION_KEY = "blogapi.passwords"
COSTS = ("rounds", "memory_cost", "parallelism")  # the work factors a stored hash carries
# OWASP's argon2id baseline; "fast" keeps the test suite quick and is never used in production.
PROFILES: dict[str, dict[str, Any]] = {
    "strong": {"argon2__memory_cost": 19456, "argon2__rounds": 2, "argon2__parallelism": 1},
    "fast": {"argon2__memory_cost": 256, "argon2__rounds": 1, "argon2__parallelism": 1},
}


class PasswordHasher:
    """Hashes and verifies passwords with one CryptContext per app."""

    def __init__(self, profile: str = "strong") -> None:
        self.context = CryptContext(
            schemes=["argon2", "bcrypt"],
            deprecated=["bcrypt"],
            argon2__type="ID",
            **PROFILES[profile],
        )
        self.dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        """Hash a new password."""
        return self.context.hash(password)

    def dummy(self) -> str:
        """The hash verified when the user is unknown, so both failures cost the same time."""
        # Made at the first check, not at start-up: argon2 fills 19 MiB making it, and the
        # queue worker and the admin commands never check a password.
        if self.dummy_hash is None:
            self.dummy_hash = self.context.hash("blogapi dummy password for timing")
        return self.dummy_hash

    def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """Check a password; also return a new hash when the stored one is outdated."""
        dummy = self.dummy()  # before either branch: a process's first check costs the same
        if stored_hash is None:
            self.context.verify(password, dummy)
            return False, None
        try:
            return self.context.verify_and_update(password, stored_hash)
        except (ValueError, TypeError):
            return False, None

    def foreign_hash_problem(self, stored_hash: str) -> str | None:
        """Why a hash made elsewhere may not be stored here, or None when it may.

        Refused: a scheme this context does not verify, a malformed hash, and any work factor
        above what this context makes, since every wrong guess at that account would pay it.
        Cheaper hashes are accepted: verify() upgrades them at the next login.
        """
        scheme = self.context.identify(stored_hash, required=False)
        if scheme is None:
            return "Not a password hash blogapi can verify."
        handler: Any = self.context.handler(scheme)  # the scheme as this context configures it
        try:
            parsed = handler.from_string(stored_hash)
        except (ValueError, TypeError):
            return f"Not a well-formed {scheme} hash."
        for cost in COSTS:
            limit = getattr(handler, "default_rounds" if cost == "rounds" else cost, None)
            value = getattr(parsed, cost, None)
            if limit is not None and value is not None and value > limit:
                return f"{scheme} {cost} {value} is above this server's {limit}."
        return None


def init_passwords(app: Flask) -> None:
    """Attach the app's PasswordHasher."""
    app.extensions[EXTENSION_KEY] = PasswordHasher(
        app.config.get("PASSWORD_HASH_PROFILE", "strong")
    )


def hasher() -> PasswordHasher:
    """The current app's PasswordHasher."""
    passwords: PasswordHasher = current_app.extensions[EXTENSION_KEY]
    return passwords
