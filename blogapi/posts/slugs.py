"""Turn titles into URL slugs and check client-supplied ones."""

from __future__ import annotations

import re

MAX_SLUG_LENGTH = 80

_NOT_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
# Symbols that tell topics apart, spelled as words the way Stack Overflow's tag URLs do:
# C++ -> c-plus-plus, C# -> c-sharp, .NET -> dot-net (else C, C++ and C# are all "c").
# A "#" that starts a word marks a hashtag and a "." inside one ("Node.js", "3.12") joins
# parts, so both stay separators.
_SYMBOLS = (
    (re.compile(r"\+"), " plus "),
    (re.compile(r"(?<=[A-Za-z0-9])#"), " sharp "),
    (re.compile(r"(?<![^\s])\.(?=[A-Za-z])"), " dot "),
)
_VALID_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _truncate(slug: str, max_length: int) -> str:
    """Shorten a slug to max_length, preferring to cut between words."""
    if len(slug) <= max_length:
        return slug
    cut = slug[:max_length]
    if slug[max_length] != "-" and "-" in cut:
        cut = cut[: cut.rindex("-")]
    return cut.rstrip("-")


def to_ascii(text: str) -> str:
    """Transliterate text to ASCII ("Ærøskøbing" -> "AEroskobing")."""
    # text_unidecode holds its whole table in memory (about 4 MB): only non-ASCII titles and
    # tags load it, and it maps every ASCII character to itself, so ASCII text skips it.
    from text_unidecode import unidecode

    ascii_text: str = unidecode(text)
    return ascii_text


def slugify(text: str, max_length: int = MAX_SLUG_LENGTH, *, symbols: bool = False) -> str:
    """Return an ASCII slug for text, or "" when nothing usable is left; `symbols` spells out
    "+", "#" and a leading "." (tags, whose slug is their identity)."""
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    ascii_text = text if text.isascii() else to_ascii(text)
    if symbols:
        for symbol, word in _SYMBOLS:
            ascii_text = symbol.sub(word, ascii_text)
    slug = _NOT_SLUG_CHARS.sub("-", ascii_text.lower()).strip("-")
    return _truncate(slug, max_length)


def with_suffix(slug: str, n: int, max_length: int = MAX_SLUG_LENGTH) -> str:
    """Return slug with "-n" appended, shortening the slug to stay within max_length."""
    if not slug:
        raise ValueError("slug must not be empty")
    if n < 1:
        raise ValueError("n must be at least 1")
    suffix = f"-{n}"
    room = max_length - len(suffix)
    if room < 1:
        raise ValueError("max_length leaves no room for the slug")
    return _truncate(slug, room) + suffix


def is_valid_slug(value: str) -> bool:
    """Return whether value is an acceptable client-supplied slug."""
    return 1 <= len(value) <= MAX_SLUG_LENGTH and _VALID_SLUG.fullmatch(value) is not None
