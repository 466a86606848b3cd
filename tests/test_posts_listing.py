"""Stories about listing posts: filters, search, status by role, sorting and the page envelope."""

from __future__ import annotations

from datetime import timedelta

import pytest

from blogapi.timeutil import utcnow
from tests.support.posts import API, new_post, publish, published_post
from tests.support.problems import assert_problem


def page(client, headers=None, **params):
    """GET /posts; returns the response after checking it is a 200 page."""
    response = client.get(f"{API}/posts", query_string=params, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response


def ids(response) -> list[int]:
    """The ids of a page's items, in order."""
    return [item["id"] for item in response.get_json()["items"]]


def test_the_public_list_shows_published_posts_newest_first(client, author):
    older = published_post(client, author, title="Older")
    newer = published_post(client, author, title="Newer")
    new_post(client, author, title="Draft")
    publish(client, author, new_post(client, author)["id"], utcnow() + timedelta(days=1))

    response = page(client)

    assert ids(response) == [newer["id"], older["id"]]
    assert response.get_json()["items"][0] == newer
    assert response.get_json()["meta"] == {
        "page": 1,
        "per_page": 20,
        "total": 2,
        "pages": 1,
        "next_cursor": None,
    }
    assert response.headers["X-Total-Count"] == "2"


def test_offset_pages_have_links_and_a_cursor_to_switch_to(client, author):
    posts = [published_post(client, author, title=f"p{i}") for i in range(5)]

    second = page(client, per_page=2, page=2)

    assert ids(second) == [posts[2]["id"], posts[1]["id"]]
    meta = second.get_json()["meta"]
    assert (meta["page"], meta["per_page"], meta["total"], meta["pages"]) == (2, 2, 5, 3)
    assert meta["next_cursor"]
    links = second.headers["Link"]
    for rel in ("first", "prev", "next", "last"):
        assert f'rel="{rel}"' in links
    assert "page=3" in links.split('rel="last"')[0].rsplit("<", 1)[1]
    last = page(client, per_page=2, page=3)
    assert ids(last) == [posts[0]["id"]]
    assert last.get_json()["meta"]["next_cursor"] is None
    assert page(client, per_page=2, page=9).get_json()["items"] == []


def test_cursor_pages_follow_next_links(client, author):
    posts = [published_post(client, author, title=f"p{i}") for i in range(5)]
    first = page(client, per_page=2)
    cursor = first.get_json()["meta"]["next_cursor"]

    second = page(client, per_page=2, cursor=cursor)

    assert ids(second) == [posts[2]["id"], posts[1]["id"]]
    meta = second.get_json()["meta"]
    assert meta["page"] is None  # a keyset page has no page number
    assert meta["total"] == 5
    assert 'rel="prev"' not in second.headers["Link"]
    assert f"cursor={meta['next_cursor']}" in second.headers["Link"]


def test_author_filter_is_case_insensitive_and_unknown_authors_give_an_empty_page(
    client, make_account
):
    alice, bob = make_account("author", "alice"), make_account("author", "bob")
    mine = published_post(client, alice)
    published_post(client, bob)
    assert ids(page(client, author="ALICE")) == [mine["id"]]
    assert ids(page(client, author="nobody")) == []


def test_tag_filter(client, author):
    tagged = published_post(client, author, tags=["Python", "web"])
    published_post(client, author, tags=["rust"])
    new_post(client, author, tags=["python"])
    assert ids(page(client, tag="python")) == [tagged["id"]]
    assert ids(page(client, tag="PYTHON")) == [tagged["id"]]
    assert ids(page(client, tag="nothing-here")) == []


@pytest.mark.parametrize(
    "q, expected",
    [
        ("python", {"py"}),
        ("PyThOn", {"py"}),
        ("snake", {"py"}),
        ("python snake", {"py"}),
        ("100%", {"pct"}),
        ("sure 100", {"pct"}),
        ("%", set()),  # punctuation is no word: nothing to search for
        ("_", set()),
        ("\\", set()),
        ("zzz", set()),
    ],
)
def test_search_matches_words_of_title_and_body_whatever_their_case(client, author, q, expected):
    made = {
        "py": published_post(client, author, title="Python tips", body="A SNAKE."),
        "pct": published_post(client, author, title="100% sure", body="x"),
        "thousand": published_post(client, author, title="1000 ways", body="axb"),
        "under": published_post(client, author, title="a_b", body="x"),
        "slash": published_post(client, author, title="paths", body="c:\\temp"),
    }
    found = set(ids(page(client, q=q)))
    assert found == {made[name]["id"] for name in expected}


@pytest.mark.parametrize("q", ["", "   ", "\t"])
def test_an_empty_search_is_an_empty_page_not_every_post(client, author, q):
    published_post(client, author)
    response = page(client, q=q)
    assert ids(response) == []
    assert response.get_json()["meta"]["total"] == 0


def test_status_lists_only_what_the_caller_may_see(client, make_account):
    writer, other, editor = (
        make_account("author"),
        make_account("contributor"),
        make_account("editor"),
    )
    mine = new_post(client, writer, title="mine")
    theirs = new_post(client, other, title="theirs")
    live = published_post(client, editor, title="live")

    assert ids(page(client, status="draft")) == []
    assert ids(page(client, status="all")) == [live["id"]]
    assert ids(page(client, writer.headers, status="draft")) == [mine["id"]]
    assert ids(page(client, other.headers, status="draft")) == [theirs["id"]]
    assert set(ids(page(client, editor.headers, status="draft"))) == {mine["id"], theirs["id"]}
    assert set(ids(page(client, writer.headers, status="all"))) == {mine["id"], live["id"]}
    assert len(ids(page(client, editor.headers, status="all"))) == 3


@pytest.mark.parametrize(
    "sort, order",
    [
        ("title", ["alpha", "bravo", "charlie"]),
        ("-title", ["charlie", "bravo", "alpha"]),
        ("created_at", ["bravo", "charlie", "alpha"]),
        ("-created_at", ["alpha", "charlie", "bravo"]),
        ("published_at", ["charlie", "alpha", "bravo"]),
        ("-published_at", ["bravo", "alpha", "charlie"]),
    ],
)
def test_every_sort_order(client, author, sort, order):
    base = utcnow() - timedelta(days=10)
    for title, published_days in [("bravo", 3), ("charlie", 1), ("alpha", 2)]:
        post = new_post(client, author, title=title)
        publish(client, author, post["id"], base + timedelta(days=published_days))
    titles = [item["title"] for item in page(client, sort=sort).get_json()["items"]]
    assert titles == order


def test_drafts_count_as_newest_when_sorting_by_published_at(client, author):
    live = published_post(client, author, title="live")
    draft = new_post(client, author, title="draft")
    newest_first = ids(page(client, author.headers, status="all", sort="-published_at"))
    oldest_first = ids(page(client, author.headers, status="all", sort="published_at"))
    assert newest_first == [draft["id"], live["id"]]
    assert oldest_first == [live["id"], draft["id"]]


BAD_PARAMETERS = [
    ("page", "0"),
    ("page", "-1"),
    ("page", "abc"),
    ("page", "1.5"),
    ("page", "1000001"),
    ("page", "99999999999999999999999"),
    ("per_page", "0"),
    ("per_page", "101"),
    ("per_page", "ten"),
    ("status", "deleted"),
    ("status", ""),
    ("status", "DRAFT"),
    ("sort", "published"),
    ("sort", "-id"),
    ("sort", "title;drop table posts"),
    ("author", "ab"),
    ("author", "no spaces"),
    ("author", "x" * 33),
    ("tag", "Not a tag!"),
    ("tag", ""),
    ("tag", "x" * 41),
    ("q", "x" * 1001),  # any text up to 1000 characters is a query; longer is refused
    ("cursor", ""),
    ("cursor", "!!!"),
    ("cursor", "bm90IGpzb24"),  # base64url of "not json"
    ("cursor", "WzEsMiwzXQ"),  # [1,2,3]
    ("cursor", "x" * 3000),
]


@pytest.mark.parametrize("name, value", BAD_PARAMETERS)
def test_every_bad_query_parameter_is_422_naming_it(client, name, value):
    response = client.get(f"{API}/posts", query_string={name: value})
    assert name in assert_problem(response, 422)["errors"]


def test_unknown_query_parameters_are_ignored(client, author):
    post = published_post(client, author)
    assert ids(page(client, colour="blue")) == [post["id"]]


def test_a_bad_token_on_the_list_is_401(client):
    response = client.get(f"{API}/posts", headers={"Authorization": "Bearer x.y.z"})
    assert_problem(response, 401)
