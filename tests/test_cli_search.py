"""An admin changes the search language and reindexes: stemming follows the new language."""

from __future__ import annotations

import pytest

import config as settings
from blogapi import create_app
from config import ConfigError
from tests.support.cli import cli
from tests.support.posts import API, published_post


def found(client, q: str) -> list[str]:
    """Slugs an anonymous search for q finds."""
    reply = client.get(f"{API}/posts", query_string={"q": q})
    assert reply.status_code == 200, reply.get_json()
    return [item["slug"] for item in reply.get_json()["items"]]


@pytest.fixture
def in_language(app, runner):
    """Reindex in a language; English again afterwards (PostgreSQL keeps it per database)."""

    def reindex(language: str) -> str:
        app.config["SEARCH_LANGUAGE"] = language
        result = cli(runner, "search", "reindex")
        assert result.exit_code == 0, result.output
        return result.stdout

    yield reindex
    reindex("english")


def test_reindexing_in_another_language_changes_what_words_find(client, make_account, in_language):
    author = make_account("author")
    post = published_post(client, author, title="Running notes", body="We were running late.")
    draft_author = make_account("author")
    published_post(client, draft_author, title="Unrelated", body="Nothing here.")
    assert found(client, "run") == [post["slug"]]  # English stems running to run

    summary = in_language("simple")
    assert summary.startswith("Indexed 2 posts for search in simple in ")
    assert found(client, "run") == []  # no stemming now
    assert found(client, "running") == [post["slug"]]

    in_language("english")
    assert found(client, "run") == [post["slug"]]


def test_posts_written_after_a_reindex_are_searchable(client, make_account, in_language):
    author = make_account("author")
    in_language("english")
    post = published_post(client, author, title="Gardening", body="Tomatoes ripen in August.")
    assert found(client, "tomato") == [post["slug"]]


def test_an_unknown_search_language_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("SEARCH_LANGUAGE", "klingon")
    with pytest.raises(ConfigError, match="SEARCH_LANGUAGE must be one of simple, arabic"):
        create_app(settings.TestingConfig())
