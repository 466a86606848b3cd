"""Stories about searching posts: what a reader types, what they find, in what order, and the
snippet that shows where. Every story runs on SQLite (FTS5) and on PostgreSQL (tsvector); the
words are chosen so that both databases' stemmers and parsers agree on them."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

import pytest

from blogapi.timeutil import utcnow
from tests.support.posts import API, new_post, publish, published_post
from tests.support.problems import assert_problem


def search(client, q: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    """GET /posts?q=…; returns the response after checking it is a 200 page."""
    response = client.get(f"{API}/posts", query_string={"q": q, **params}, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return response


def found(client, q: str, headers: dict[str, str] | None = None, **params: Any) -> list[int]:
    """The ids a search finds, in order (one page of up to 100)."""
    params.setdefault("per_page", 100)
    return [item["id"] for item in search(client, q, headers, **params).get_json()["items"]]


def matches(client, q: str, **params: Any) -> list[dict[str, Any]]:
    """The `match` of each item a search finds, in order."""
    return [item["match"] for item in search(client, q, **params).get_json()["items"]]


@pytest.fixture
def garden(client, author) -> dict[str, int]:
    """Two published posts with the same words, once side by side and once apart."""
    return {
        "beside": published_post(
            client,
            author,
            title="Summer",
            body="Roses grow beside the green fence; tomatoes ripen.",
        )["id"],
        "apart": published_post(
            client, author, title="Autumn", body="The fence was green and the roses were red."
        )["id"],
    }


@pytest.mark.parametrize("q", ["publishing", "publish", "publishes", "PUBLISHED"])
def test_a_search_finds_other_forms_of_the_word(client, author, q):
    post = published_post(client, author, title="News", body="The book was published in spring.")
    published_post(client, author, title="Other", body="A public library opened.")
    assert found(client, q) == [post["id"]]


@pytest.mark.parametrize("q", ["cafe", "café", "CAFÉ", "Cafe"])
def test_accents_and_case_are_ignored_both_ways(client, author, q):
    accented = published_post(client, author, title="Mornings", body="We met at the café.")
    plain = published_post(client, author, title="Evenings", body="We met at the CAFE.")
    published_post(client, author, title="Nights", body="We met at the bar.")
    assert set(found(client, q)) == {accented["id"], plain["id"]}


@pytest.mark.parametrize(
    "q, title, body",
    [
        ("ΕΛΛΗΝΙΚΆ", "Νέα", "Ελληνικά μαθήματα."),
        ("привет", "Письма", "ПРИВЕТ из Москвы."),
        ("ÉCOLE", "Rentrée", "Une école de plus."),
    ],
)
def test_case_is_ignored_in_every_script_and_snippets_keep_the_text_as_written(
    client, author, q, title, body
):
    post = published_post(client, author, title=title, body=body)
    published_post(client, author, title="Other", body="Nothing like it.")
    [item] = search(client, q).get_json()["items"]
    assert item["id"] == post["id"]
    word = body.split()[0] if q != "ÉCOLE" else "école"
    assert f"<mark>{word}</mark>" in item["match"]["snippet"]


def test_a_quoted_phrase_needs_its_words_together(client, garden):
    assert found(client, '"green fence"') == [garden["beside"]]
    assert set(found(client, "green fence")) == set(garden.values())
    assert set(found(client, '"fence green"')) == set()
    assert found(client, '"green fence') == [garden["beside"]]  # an unclosed quote ends at the end


def test_words_are_all_required_unless_joined_by_or(client, garden):
    assert found(client, "roses tomatoes") == [garden["beside"]]
    assert found(client, "tomatoes red") == []
    assert set(found(client, "tomatoes or red")) == set(garden.values())
    assert set(found(client, "tomatoes OR red")) == set(garden.values())
    assert found(client, "tomatoes or unheardofword") == [garden["beside"]]
    # AND binds tighter than or: (roses and red) or (unheard)
    assert found(client, "roses red or unheardofword") == [garden["apart"]]


def test_a_minus_excludes_a_word_or_a_phrase(client, garden):
    assert found(client, "roses -tomatoes") == [garden["apart"]]
    assert found(client, 'roses -"green fence"') == [garden["apart"]]
    assert set(found(client, 'roses -"fence roses"')) == set(garden.values())
    assert found(client, "roses -roses") == []


@pytest.mark.parametrize("q", ["-roses", '-"green fence"', "-roses -tomatoes", "- -"])
def test_a_query_that_only_excludes_finds_nothing(client, garden, q):
    response = search(client, q)
    assert response.get_json()["items"] == []
    assert response.get_json()["meta"]["total"] == 0


@pytest.mark.parametrize("q", ["the", "The and of", '"to be or not to be"', "or", "   ", ""])
def test_a_query_of_only_stop_words_or_nothing_finds_nothing(client, author, q):
    published_post(client, author, title="The and of", body="To be or not to be, the and of.")
    response = search(client, q)
    assert response.get_json()["items"] == []
    assert response.headers["X-Total-Count"] == "0"


def test_stop_words_inside_a_query_do_not_stop_it(client, garden):
    assert found(client, "the roses") != []
    assert found(client, '"the green fence"') == [garden["beside"]]


def test_tag_names_and_summaries_are_searched(client, author):
    tagged = published_post(
        client, author, title="Tagged", body="Nothing here.", tags=["Astronomy"]
    )
    summed = published_post(
        client, author, title="Summed", body="Nothing here.", summary="A note about volcanoes."
    )
    assert found(client, "astronomy") == [tagged["id"]]
    assert found(client, "volcano") == [summed["id"]]


def test_words_next_to_angle_brackets_are_searched_like_any_other(client, author):
    """PostgreSQL's parser would read `<String>` as an HTML tag and skip everything after an
    unclosed `<script>`: a post about code must not lose those words."""
    post = published_post(
        client,
        author,
        title="Generics: Vec<Penguin> & <Puffin>",
        body="Store `Vec<String>` here. Never put `<script>` in templates, warn the reviewers.",
    )
    for q in ("penguin", "puffin", "string", "<script>", "templates", "reviewers", '"Vec<String>"'):
        assert found(client, q) == [post["id"]], q
    [match] = matches(client, "reviewers")
    assert (
        "Never put &lt;script&gt; in templates, warn the <mark>reviewers</mark>."
        in (match["snippet"])
    )


def test_a_title_match_ranks_above_a_summary_match_above_a_body_match(client, author):
    # Every field as long in every post, the word once: only where it stands can order them.
    # Made best first, so that ties (broken by newest id first) would give the reverse order.
    filler = "Walking along the shore we counted {} boats and gulls until evening came."
    title = published_post(
        client,
        author,
        title="Glacier walk today",
        summary="A day out by the sea.",
        body=filler.format("grey"),
    )
    summary = published_post(
        client,
        author,
        title="Coastal walk today",
        summary="A glacier out by the sea.",
        body=filler.format("grey"),
    )
    body = published_post(
        client,
        author,
        title="Coastal walk today",
        summary="A day out by the sea.",
        body=filler.format("glacier"),
    )

    for q in ("glacier", "glacier -volcano", 'glacier -"red boats"'):  # exclusions too
        response = search(client, q)

        assert [item["id"] for item in response.get_json()["items"]] == [
            title["id"],
            summary["id"],
            body["id"],
        ], q
        ranks = [item["match"]["rank"] for item in response.get_json()["items"]]
        assert all(isinstance(rank, float) for rank in ranks)
        assert ranks[0] > ranks[1] > ranks[2], q


def test_more_occurrences_in_the_same_field_rank_higher(client, author):
    once = published_post(client, author, title="One", body="An otter swam past the boats.")
    thrice = published_post(
        client, author, title="Three", body="An otter, then an otter, then a third otter."
    )
    assert found(client, "otter") == [thrice["id"], once["id"]]


def test_a_snippet_marks_the_match_in_the_body_as_escaped_html(client, author):
    published_post(
        client, author, title="Chips", body="Fish & chips, served with **vinegar**, by the harbour."
    )
    [match] = matches(client, "vinegar")
    assert match["snippet"] == (
        "Fish &amp; chips, served with <mark>vinegar</mark>, by the harbour."
    )


def test_a_snippet_escapes_markup_from_the_body_and_keeps_only_mark_tags(client, author):
    body = "Never paste `<script>alert(1)</script>` or `<b onclick=x>` into a comment box."
    published_post(client, author, title="Safety", body=body)
    [match] = matches(client, "comment")
    snippet = match["snippet"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet
    assert "<mark>comment</mark>" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


def test_a_snippet_is_at_most_300_characters_of_text_around_the_first_match(client, author):
    before = " ".join(f"early{n}" for n in range(60))
    after = " ".join(f"late{n}" for n in range(60))
    published_post(client, author, title="Long", body=f"{before} the walrus sleeps {after}")
    [match] = matches(client, "walrus")
    text = re.sub(r"</?mark>", "", match["snippet"])
    assert "<mark>walrus</mark>" in match["snippet"]
    assert len(text) <= 300
    assert "early0 " not in text and "late59" not in text  # cut on both sides


def test_a_match_only_in_the_title_gives_the_title_as_snippet(client, author):
    published_post(client, author, title="The heron at dawn", body="Birds stood in the water.")
    [match] = matches(client, "heron")
    assert match["snippet"] == "The <mark>heron</mark> at dawn"


def test_every_searched_item_carries_its_match_and_a_plain_list_does_not(client, author):
    published_post(client, author, title="Otters", body="Otters play.")
    [item] = search(client, "otters").get_json()["items"]
    assert set(item["match"]) == {"rank", "snippet"}
    assert item["match"]["snippet"] == "<mark>Otters</mark> play."  # the body's, when it matches
    [item] = client.get(f"{API}/posts").get_json()["items"]
    assert "match" not in item


def test_drafts_and_scheduled_posts_are_found_only_by_whoever_may_see_them(client, make_account):
    writer, other, editor = (
        make_account("author"),
        make_account("author"),
        make_account("editor"),
    )
    draft = new_post(client, writer, title="Plans", body="A secret zanzibar itinerary.")
    later = new_post(client, writer, title="Soon", body="The zanzibar announcement.")
    assert publish(client, writer, later["id"], utcnow() + timedelta(days=2)).status_code == 200
    hidden = {draft["id"], later["id"]}

    assert found(client, "zanzibar") == []
    assert found(client, "zanzibar", status="all") == []
    assert found(client, "zanzibar", other.headers, status="all") == []
    assert found(client, "zanzibar", writer.headers) == []  # published only, by default
    assert set(found(client, "zanzibar", writer.headers, status="all")) == hidden
    assert found(client, "zanzibar", writer.headers, status="draft") == [draft["id"]]
    assert found(client, "zanzibar", writer.headers, status="scheduled") == [later["id"]]
    assert set(found(client, "zanzibar", editor.headers, status="all")) == hidden
    assert search(client, "zanzibar", status="all").headers["X-Total-Count"] == "0"


def test_filters_combine_with_a_search(client, make_account):
    alice, bob = make_account("author", "alice"), make_account("author", "bob")
    a_python = published_post(client, alice, title="Lizards", body="Lizards bask.", tags=["python"])
    a_other = published_post(client, alice, title="Lizards again", body="Lizards run.")
    b_python = published_post(
        client, bob, title="Lizards too", body="Lizards hide.", tags=["python"]
    )
    a_draft = new_post(client, alice, title="Lizard draft", body="Lizards wait.", tags=["python"])

    assert set(found(client, "lizards", tag="python")) == {a_python["id"], b_python["id"]}
    assert set(found(client, "lizards", author="alice")) == {a_python["id"], a_other["id"]}
    assert found(client, "lizards", author="alice", tag="python") == [a_python["id"]]
    mine = set(found(client, "lizards", alice.headers, status="all", tag="python"))
    assert mine == {a_python["id"], b_python["id"], a_draft["id"]}
    assert found(client, "lizards", alice.headers, status="draft") == [a_draft["id"]]


def test_the_total_counts_every_match_not_the_page(client, author):
    for n in range(7):
        published_post(client, author, title=f"Badger {n}", body="A badger.")
    published_post(client, author, title="Fox", body="A fox.")
    response = search(client, "badger", per_page=3)
    assert len(response.get_json()["items"]) == 3
    meta = response.get_json()["meta"]
    assert (meta["total"], meta["pages"]) == (7, 3)
    assert response.headers["X-Total-Count"] == "7"


def test_cursor_pages_under_relevance_walk_every_match_once_best_first(client, author):
    # Five strengths of match, five posts each: ties in rank at and across page boundaries.
    made = set()
    for strength in range(1, 6):
        for n in range(5):
            body = " ".join(["kestrel"] * strength + [f"filler{n}"] * (6 - strength))
            made.add(published_post(client, author, title=f"Bird {strength}.{n}", body=body)["id"])
    published_post(client, author, title="Other", body="A sparrow.")

    seen: list[int] = []
    ranks: list[float] = []
    cursor = None
    for _ in range(10):
        params = {"per_page": 5} | ({"cursor": cursor} if cursor else {})
        response = search(client, "kestrel", **params)
        items = response.get_json()["items"]
        seen += [item["id"] for item in items]
        ranks += [item["match"]["rank"] for item in items]
        assert response.get_json()["meta"]["total"] == 25
        cursor = response.get_json()["meta"]["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == made
    assert ranks == sorted(ranks, reverse=True)
    assert ranks[0] > ranks[-1]
    assert seen == found(client, "kestrel")  # the same order as one big page


def test_offset_pages_under_relevance_agree_with_cursor_pages(client, author):
    for n in range(6):
        published_post(client, author, title=f"Hawk {n}", body=" ".join(["hawk"] * (n + 1)))
    whole = found(client, "hawk")
    paged = [i for p in (1, 2, 3) for i in found(client, "hawk", per_page=2, page=p)]
    assert paged == whole


def test_sorting_by_relevance_needs_a_search(client):
    problem = assert_problem(client.get(f"{API}/posts", query_string={"sort": "relevance"}), 422)
    assert list(problem["errors"]) == ["sort"]


@pytest.mark.parametrize(
    "sort, order",
    [("title", ["a", "b", "c"]), ("-title", ["c", "b", "a"]), ("created_at", ["b", "c", "a"])],
)
def test_other_sort_orders_work_with_a_search(client, author, sort, order):
    for title in ("b", "c", "a"):
        published_post(client, author, title=title, body="A puffin.")
    published_post(client, author, title="d", body="A gannet.")
    items = search(client, "puffin", sort=sort).get_json()["items"]
    assert [item["title"] for item in items] == order
    assert all("<mark>puffin</mark>" in item["match"]["snippet"] for item in items)
    cursor = search(client, "puffin", sort=sort, per_page=2).get_json()["meta"]["next_cursor"]
    rest = search(client, "puffin", sort=sort, per_page=2, cursor=cursor).get_json()["items"]
    assert [item["title"] for item in rest] == order[2:]


def test_an_edit_is_searched_at_once(client, author):
    post = published_post(client, author, title="Pets", body="A tortoise.", tags=["reptiles"])
    path = f"{API}/posts/{post['id']}"

    response = client.patch(path, json={"body": "A hedgehog."}, headers=author.headers)
    assert response.status_code == 200, response.get_json()
    assert found(client, "tortoise") == []
    assert found(client, "hedgehog") == [post["id"]]

    response = client.patch(path, json={"tags": ["mammals"]}, headers=author.headers)
    assert response.status_code == 200, response.get_json()
    assert found(client, "reptiles") == []
    assert found(client, "mammals") == [post["id"]]

    response = client.patch(path, json={"title": "Spiny friends"}, headers=author.headers)
    assert response.status_code == 200, response.get_json()
    assert found(client, "pets") == []
    assert found(client, "spiny") == [post["id"]]

    assert client.delete(path, headers=author.headers).status_code == 204
    assert found(client, "hedgehog") == []
    assert found(client, "hedgehog", author.headers, status="all") == []


def test_unpublishing_hides_a_post_from_readers_searches(client, author):
    post = published_post(client, author, title="Moles", body="Moles dig.")
    assert found(client, "moles") == [post["id"]]
    response = client.post(f"{API}/posts/{post['id']}/unpublish", headers=author.headers)
    assert response.status_code == 200, response.get_json()
    assert found(client, "moles") == []
    assert found(client, "moles", author.headers, status="draft") == [post["id"]]


def test_a_query_of_the_longest_allowed_length_works_and_one_more_is_refused(client, author):
    post = published_post(client, author, title="Owls", body="Owls hoot.")
    q = ("owls " * 200)[:1000]
    assert len(q) == 1000
    assert found(client, q) == [post["id"]]
    problem = assert_problem(client.get(f"{API}/posts", query_string={"q": q + "x"}), 422)
    assert list(problem["errors"]) == ["q"]


def test_a_nul_in_a_query_separates_words(client, author):
    post = published_post(client, author, title="Owls", body="Owls hoot.")
    assert found(client, "owls\x00hoot") == [post["id"]]


def test_a_relevance_cursor_a_client_edited_is_refused(client, author):
    for n in range(3):
        published_post(client, author, title=f"Wren {n}", body=" ".join(["wren"] * (n + 1)))
    cursor = search(client, "wren", per_page=1).get_json()["meta"]["next_cursor"]
    real = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert isinstance(real["k"], float)
    for forged in (
        {**real, "k": str(real["k"])},
        {**real, "k": True},
        {**real, "k": None},
        {**real, "k": [real["k"]]},
        {**real, "s": "title"},
    ):
        text = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
        response = client.get(f"{API}/posts", query_string={"q": "wren", "cursor": text})
        assert list(assert_problem(response, 422)["errors"]) == ["cursor"], forged
    # A rank written as an integer is still a place in the order.
    text = base64.urlsafe_b64encode(json.dumps({**real, "k": 0}).encode()).decode().rstrip("=")
    assert search(client, "wren", cursor=text).get_json()["items"] == []
