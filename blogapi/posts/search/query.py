"""A search box's text, read as web search engines and PostgreSQL's websearch_to_tsquery read it.

Words are ANDed, `"a quoted phrase"` is a phrase, `-word` or `-"a phrase"` excludes, and `or`
between two terms means either; AND binds tighter than `or`, so the query is an OR of groups of
terms. Any text is a query: quotes that never close end at the end, operators with nothing to
act on are ignored, and what is left may be nothing at all (then nothing matches).

The parsed query is written out twice: for PostgreSQL, as websearch text in a canonical form
(each term quoted) that websearch_to_tsquery reads back the same way; for SQLite, as an FTS5
expression whose every term is a quoted string, so no character a user types is ever an FTS5
operator.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from blogapi.posts.search.language import stop_words

MAX_TERMS = 32  # terms past these are ignored: each costs an index lookup
_SPACE = re.compile(r"\s+")
_CHUNK = re.compile(r'[^\s"]+')


@dataclass(frozen=True)
class Term:
    """A word or a phrase, as typed and as its words (what both databases look for)."""

    text: str
    words: tuple[str, ...]
    excluded: bool


@dataclass(frozen=True)
class SearchQuery:
    """Groups of terms: a post matches when it matches every term of some group."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def answerable(self) -> bool:
        """Whether an index can answer it: every group must ask for something, not only
        exclude (`-cat` alone would be every post without "cat")."""
        return bool(self.groups) and all(
            any(not term.excluded for term in group) for group in self.groups
        )


def is_word_character(char: str) -> bool:
    """Whether FTS5's unicode61 tokenizer keeps `char` in a word (letters, digits, private
    use); every other character separates words."""
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Co"


def without_accents(text: str) -> str:
    """The text decomposed (NFKD) with its combining marks dropped: "Café" -> "Cafe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def folded(word: str) -> str:
    """A word without case or accents, as both databases compare words."""
    return without_accents(word.lower())


def words_of(text: str) -> list[str]:
    """The words in `text`, as FTS5's unicode61 tokenizer splits them."""
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if is_word_character(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def make_term(text: str, excluded: bool, ignored: frozenset[str]) -> Term | None:
    """A term of `text`, without the stop words at its ends (PostgreSQL drops them too); None
    when no word is left."""
    # The words as typed: FTS5 folds and stems them as it did the posts.
    words = words_of(text)
    while words and folded(words[0]) in ignored:
        words.pop(0)
    while words and folded(words[-1]) in ignored:
        words.pop()
    if not words:
        return None
    return Term(_SPACE.sub(" ", text).strip(), tuple(words), excluded)


def parse(text: str, language: str) -> SearchQuery:
    """Read a search box's text (any text)."""
    ignored = stop_words(language)
    groups: list[list[Term]] = [[]]
    either = False  # an `or` came after the last term
    excluded = False  # a `-` came right before this term
    count = 0
    position = 0
    text = text.replace("\x00", " ")
    while position < len(text) and count < MAX_TERMS:
        char = text[position]
        if char.isspace():
            excluded = False
            position += 1
            continue
        if char == "-":
            excluded = True
            position += 1
            continue
        if char == '"':
            end = text.find('"', position + 1)
            end = len(text) if end < 0 else end
            chunk, position = text[position + 1 : end], end + 1
        else:
            found = _CHUNK.match(text, position)
            assert found is not None  # a character that is neither space nor a quote
            chunk, position = found.group(), found.end()
            if chunk.lower() == "or" and not excluded:
                either = bool(groups[-1])
                continue
        term = make_term(chunk, excluded, ignored)
        excluded = False
        if term is None:
            continue
        if either:
            groups.append([])
            either = False
        groups[-1].append(term)
        count += 1
    return SearchQuery(tuple(tuple(group) for group in groups if group))


def wanted(query: SearchQuery) -> SearchQuery:
    """The query without its exclusions: what a matching post is ranked by."""
    return SearchQuery(tuple(tuple(t for t in group if not t.excluded) for group in query.groups))


def websearch_text(query: SearchQuery) -> str:
    """The query as websearch_to_tsquery reads it back: each term quoted, as its words (the
    words FTS5 reads: "long-awaited" is the phrase "long awaited", which an unhyphenated
    spelling matches too, and "3.14" the phrase "3 14", as the index holds it)."""

    def term(item: Term) -> str:
        # Lowered here: PostgreSQL's parser lowers ASCII alone under the C locale.
        return ("-" if item.excluded else "") + '"' + " ".join(item.words).lower() + '"'

    return " or ".join(" ".join(term(item) for item in group) for group in query.groups)


def fts5_expression(query: SearchQuery) -> str:
    """The query as an FTS5 expression; each term a quoted string of its words, which FTS5
    stems and folds as it did the posts. Only for answerable queries."""

    def phrase(item: Term) -> str:
        return '"' + " ".join(item.words).replace('"', '""') + '"'

    def group(terms: tuple[Term, ...]) -> str:
        wanted = " AND ".join(phrase(term) for term in terms if not term.excluded)
        unwanted = " OR ".join(phrase(term) for term in terms if term.excluded)
        return f"(({wanted}) NOT ({unwanted}))" if unwanted else f"({wanted})"

    return " OR ".join(group(terms) for terms in query.groups)
