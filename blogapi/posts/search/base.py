"""What every search engine offers (`Search`) and what they share: the words a query looks
for, and the choice of a post's snippet."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select

from blogapi.db.models import Post
from blogapi.posts.search.query import SearchQuery
from blogapi.posts.search.snippets import EXCERPT_CHARS, excerpt, has_match, snippet_html


def best_snippet(post: Post, body: str | None, title: str | None) -> str:
    """The marked body excerpt when a match is there, else the marked title, else the body's
    start (the match was in the summary or the tags)."""
    for marked in (body, title):
        if marked and has_match(marked):
            return snippet_html(marked)
    return snippet_html(post.body_text[:EXCERPT_CHARS] or post.title)


def searched_words(query: SearchQuery) -> list[str]:
    """The words a query looks for (not those it excludes)."""
    return [
        word for group in query.groups for term in group if not term.excluded for word in term.words
    ]


class Search(ABC):
    """A search query bound to the database in use."""

    def __init__(self, query: SearchQuery, language: str) -> None:
        self.query = query
        self.language = language

    @abstractmethod
    def narrow(self, statement: Select[Any]) -> Select[Any]:
        """`statement` (reading posts) limited to matching posts."""

    @property
    @abstractmethod
    def rank(self) -> ColumnElement[float]:
        """How well a post matches, higher first; valid in a narrowed statement."""

    def snippets(self, posts: Sequence[Post]) -> dict[int, str]:
        """Each of these matching posts (one page) -> its snippet (HTML): the database marks
        the matches in each body excerpt and title, and the best of those is cut here."""
        words = searched_words(self.query)
        texts = {post.id: (excerpt(post.body_text, words), post.title) for post in posts}
        marked = self.mark(texts)
        return {post.id: best_snippet(post, *marked.get(post.id, (None, None))) for post in posts}

    @abstractmethod
    def mark(self, texts: dict[int, tuple[str, str]]) -> dict[int, tuple[str, str]]:
        """Post id -> (body excerpt, title) with every match marked (START … STOP), for
        those of `texts` the query matches there."""
