"""Every post request runs a fixed number of SQL queries, whatever the page size (no N+1)."""

from __future__ import annotations

import pytest

from blogapi.extensions import db
from tests.support.databases import counted_queries
from tests.support.posts import API, new_post, publish, published_post

# Statements the engine runs (SAVEPOINT/RELEASE included; COMMIT is not a cursor execute).
CONTENT_VERSION = 1  # every anonymous read checks the public cache against the content version
NEXT_GO_LIVE = 1  # a cache miss also asks when the next scheduled post goes live
LIST_ANONYMOUS = CONTENT_VERSION + 3 + NEXT_GO_LIVE  # + count, page with authors, page's tags
# A search page also marks its posts' matches: PostgreSQL in one query; SQLite empties, fills
# and reads its connection's table of excerpts (made by the connection's first search).
SEARCH_SNIPPETS = {"postgresql": 1, "sqlite": 3}
# Signed in: what a stored answer depends on (the content version, the token's revocation and
# user, in one statement: web/fast_reads.py), then through Flask the token's user and
# revocation check, until when the answer may be replayed, page and tags; the total is
# counted once per filter set and version.
LIST_SIGNED_IN = CONTENT_VERSION + 1 + NEXT_GO_LIVE + 2
REPLAYED = CONTENT_VERSION  # a repeated signed-in read is replayed after that one statement
LIST_SIGNED_IN_FIRST = LIST_SIGNED_IN + 1  # + count
SINGLE_ANONYMOUS = CONTENT_VERSION + 2 + NEXT_GO_LIVE  # + post with author joined, its tags
CACHED_READ = CONTENT_VERSION  # an anonymous read the cache answers
# user, savepoint, insert, release, its first revision, reload with author, its tags
CREATE_NO_TAGS = 7
PUBLISH = 7  # user, post, tags, update, the webhooks outbox row, reload (2)


@pytest.fixture
def crowd(client, make_account):
    """Thirty published posts by five authors, each with three tags."""
    writers = [make_account("author") for _ in range(5)]
    for i in range(30):
        writer = writers[i % 5]
        published_post(client, writer, title=f"post {i}", tags=[f"t{i % 7}", f"u{i % 4}", "all"])
    return writers


@pytest.mark.parametrize("per_page", [1, 5, 30, 100])
def test_a_list_runs_the_same_queries_for_any_page_size(app, client, crowd, per_page):
    with counted_queries(app) as anonymous:
        response = client.get(f"{API}/posts", query_string={"per_page": per_page})
    assert len(response.get_json()["items"]) == min(per_page, 30)
    assert len(anonymous) == LIST_ANONYMOUS, anonymous
    with counted_queries(app) as again:
        client.get(f"{API}/posts", query_string={"per_page": per_page})
    assert len(again) == CACHED_READ, again

    signed_in_query = {"per_page": per_page, "status": "all", "sort": "title"}
    with counted_queries(app) as signed_in:
        client.get(f"{API}/posts", query_string=signed_in_query, headers=crowd[0].headers)
    assert len(signed_in) == LIST_SIGNED_IN_FIRST, signed_in
    with counted_queries(app) as again:
        client.get(f"{API}/posts", query_string=signed_in_query, headers=crowd[0].headers)
    assert len(again) == REPLAYED, again
    resorted = {**signed_in_query, "sort": "-title"}
    with counted_queries(app) as other_order:
        client.get(f"{API}/posts", query_string=resorted, headers=crowd[0].headers)
    assert len(other_order) == LIST_SIGNED_IN, other_order  # the total is not counted again


def test_filters_and_cursors_add_no_queries(app, client, crowd):
    cursor = client.get(f"{API}/posts?per_page=3").get_json()["meta"]["next_cursor"]
    params = {
        "per_page": 3,
        "cursor": cursor,
        "tag": "all",
        "q": "post",
        "sort": "-published_at",
        "author": crowd[1].username,
    }
    client.get(f"{API}/posts", query_string={"q": "post", "per_page": 1})  # a first search
    with counted_queries(app) as statements:
        reply = client.get(f"{API}/posts", query_string=params)
    assert reply.status_code == 200 and reply.get_json()["items"]
    with app.app_context():
        snippets = SEARCH_SNIPPETS[db.engine.dialect.name]
    assert len(statements) == LIST_ANONYMOUS + snippets


def test_a_single_read_runs_a_fixed_number_of_queries(app, client, crowd):
    with counted_queries(app) as statements:
        assert client.get(f"{API}/posts/post-7").status_code == 200
    assert len(statements) == SINGLE_ANONYMOUS
    with counted_queries(app) as statements:
        assert client.get(f"{API}/posts/7", headers={"If-None-Match": "*"}).status_code == 304
    assert len(statements) == SINGLE_ANONYMOUS - NEXT_GO_LIVE  # a 304 is not cached
    client.get(f"{API}/posts/7")
    with counted_queries(app) as statements:
        assert client.get(f"{API}/posts/7", headers={"If-None-Match": "*"}).status_code == 304
    assert len(statements) == CACHED_READ


def test_create_and_publish_run_a_fixed_number_of_queries(app, client, author):
    with counted_queries(app) as statements:
        post = new_post(client, author, title="Counted")
    assert len(statements) == CREATE_NO_TAGS, statements

    with counted_queries(app) as with_tags:
        new_post(client, author, title="Tagged", tags=[f"tag{i}" for i in range(10)])
    # + lookup, savepointed insert of all the missing tags (3), lookup, insert of the links
    assert len(with_tags) == CREATE_NO_TAGS + 6, with_tags

    with counted_queries(app) as statements:
        assert publish(client, author, post["id"]).status_code == 200
    assert len(statements) == PUBLISH, statements


def test_a_tag_list_is_one_query_plus_the_cache_check(app, client, crowd):
    with counted_queries(app) as statements:
        assert len(client.get(f"{API}/tags").get_json()) == 12
    assert len(statements) == CONTENT_VERSION + 1 + NEXT_GO_LIVE
    with counted_queries(app) as statements:
        assert len(client.get(f"{API}/tags").get_json()) == 12
    assert len(statements) == CACHED_READ
