"""Check new passwords against a NIST SP 800-63B style policy."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files

MIN_LENGTH = 8
# Long passphrases are welcome; this only bounds the work done per request.
MAX_LENGTH = 1024

TOO_SHORT = f"Password must be at least {MIN_LENGTH} characters long."
TOO_LONG = f"Password must be at most {MAX_LENGTH} characters long."
SAME_AS_USERNAME = "Password must not be the same as the username."
SAME_AS_EMAIL = "Password must not be the same as the email address."
TOO_COMMON = "Password is too common."
REPEATED_CHARACTER = "Password must not be a single character repeated."


@cache
def common_passwords() -> frozenset[str]:
    """Return the bundled list of common passwords, casefolded."""
    text = files("blogapi.security.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def _fold(value: str) -> str:
    """Normalize a value for case-insensitive comparison."""
    return unicodedata.normalize("NFKC", value.strip()).casefold()


def _email_forms(email: str) -> set[str]:
    """Return the folded email address and its local part."""
    folded = _fold(email)
    if not folded:
        return set()
    local, at, _domain = folded.rpartition("@")
    return {folded, local} - {""} if at else {folded}


def password_problems(password: str, username: str = "", email: str = "") -> list[str]:
    """Return the reasons a password is unacceptable, or [] if it is fine."""
    # Checked before normalizing so oversized input costs nothing more.
    if len(password) > MAX_LENGTH:
        return [TOO_LONG]
    normalized = unicodedata.normalize("NFKC", password)
    folded = normalized.casefold()
    problems = []
    if len(normalized) < MIN_LENGTH:
        problems.append(TOO_SHORT)
    elif len(normalized) > MAX_LENGTH:
        problems.append(TOO_LONG)
    if username.strip() and folded == _fold(username):
        problems.append(SAME_AS_USERNAME)
    if folded in _email_forms(email):
        problems.append(SAME_AS_EMAIL)
    if folded in common_passwords():
        problems.append(TOO_COMMON)
    if len(set(normalized)) == 1:
        problems.append(REPEATED_CHARACTER)
    return problems
