"""Stories about slugs: made from titles, unique even when requests race, stable, settable."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

import blogapi.posts.service as post_service
import blogapi.posts.tags as tag_service
from blogapi.db.models import Tag
from blogapi.extensions import db
from tests.support.accounts import sign_up
from tests.support.apps import file_database_app
from tests.support.databases import counted_queries
from tests.support.posts import API, new_post, write_post
from tests.support.problems import assert_problem


@pytest.mark.parametrize(
    "title, slug",
    [
        ("Hello, World!", "hello-world"),
        ("Crème Brûlée", "creme-brulee"),
        ("  Ωμέγα  ", "omega"),
        ("🎉🎉", "post"),
        ("!!!", "post"),
        ("1984", "post-1984"),
        ("x" * 200, "x" * 75),
        ("word " * 40, "-".join(["word"] * 15)),
    ],
)
def test_slugs_come_from_the_title(client, author, title, slug):
    assert new_post(client, author, title=title)["slug"] == slug


def test_a_taken_slug_gets_a_numeric_suffix(client, author, make_account):
    other = make_account("author")
    slugs = [new_post(client, who, title="Same Title")["slug"] for who in (author, other, author)]
    assert slugs == ["same-title", "same-title-2", "same-title-3"]


def test_after_twenty_numbered_tries_a_random_suffix_is_used(client, author):
    slugs = [new_post(client, author, title="Busy")["slug"] for _ in range(21)]
    assert slugs[:20] == ["busy"] + [f"busy-{n}" for n in range(2, 21)]
    assert re.fullmatch(r"busy-\d{9}", slugs[20])
    assert len(set(slugs)) == 21


def test_a_slug_taken_by_a_hidden_draft_still_yields_a_suffix(client, make_account):
    first, second = make_account("author"), make_account("author")
    new_post(client, first, title="Secret plans")
    assert new_post(client, second, title="Secret plans")["slug"] == "secret-plans-2"


def test_the_slug_stays_when_the_title_changes(client, author):
    post = new_post(client, author, title="Draft title")
    response = client.patch(
        f"{API}/posts/{post['id']}", json={"title": "Final title"}, headers=author.headers
    )
    assert response.get_json()["slug"] == "draft-title"
    assert client.get(f"{API}/posts/draft-title", headers=author.headers).status_code == 200


def test_a_client_may_choose_the_slug(client, author):
    assert new_post(client, author, title="Anything", slug="my-choice")["slug"] == "my-choice"


def test_a_chosen_slug_that_is_taken_is_409_naming_slug(client, author):
    new_post(client, author, title="First", slug="wanted")
    response = write_post(client, author, title="Second", slug="wanted")
    body = assert_problem(response, 409)
    assert body["errors"] == {"slug": ["This slug is already taken."]}
    listed = client.get(f"{API}/posts?status=all", headers=author.headers).get_json()
    assert listed["meta"]["total"] == 1


def test_a_digits_only_slug_cannot_be_chosen_because_it_reads_as_an_id(client, author):
    assert "slug" in assert_problem(write_post(client, author, slug="42"), 422)["errors"]


def test_slug_lookup_ignores_case(client, author):
    post = new_post(client, author, title="Mixed Case")
    assert client.get(f"{API}/posts/Mixed-CASE", headers=author.headers).get_json() == post


@pytest.fixture
def slug_conflicts(monkeypatch) -> list[bool]:
    """Each failed insert the service classifies: whether it was a slug conflict."""
    conflicts: list[bool] = []
    classify = post_service.is_slug_conflict

    def spy(error):
        conflicts.append(classify(error))
        return conflicts[-1]

    monkeypatch.setattr(post_service, "is_slug_conflict", spy)
    return conflicts


def test_a_slug_lost_to_a_concurrent_insert_is_retried_with_the_next_suffix(
    monkeypatch, client, author, slug_conflicts
):
    """The service looks once for taken slugs, but the constraint decides: a slug another
    request took after that look is retried with the next suffix."""
    new_post(client, author, title="Race")
    new_post(client, author, title="Race")
    monkeypatch.setattr(post_service, "taken_slugs", lambda candidates: set())  # looked too early
    slug_conflicts.clear()
    assert new_post(client, author, title="Race")["slug"] == "race-3"
    assert slug_conflicts == [True, True]  # the title's own slug, then race-2 the look missed


def test_a_taken_title_costs_one_look_not_one_failed_insert_per_suffix(app, client, author):
    with counted_queries(app) as statements:
        assert new_post(client, author, title="Untitled")["slug"] == "untitled"
    looks = [s for s, _ in statements if s.startswith("SELECT posts.slug")]
    assert looks == [], statements  # a free title is inserted straight away
    for _ in range(3):
        new_post(client, author, title="Untitled")
    with counted_queries(app) as statements:
        assert new_post(client, author, title="Untitled")["slug"] == "untitled-5"
    inserts = [s for s, _ in statements if s.startswith("INSERT INTO posts ")]
    looks = [s for s, _ in statements if s.startswith("SELECT posts.slug")]
    assert (len(inserts), len(looks)) == (2, 1), statements  # the title's own slug, then one look


def test_two_requests_racing_for_one_slug_both_succeed(monkeypatch, tmp_path, slug_conflicts):
    app = file_database_app(tmp_path)
    client = app.test_client()
    writer = sign_up(client, app, "racer", "author")
    at_the_line = threading.Barrier(2, timeout=10)
    render = post_service.render_markdown

    def render_then_wait(source: str) -> str:
        html = render(source)
        at_the_line.wait()  # both requests now insert "photo-finish" with new tag "shared"
        return html

    monkeypatch.setattr(post_service, "render_markdown", render_then_wait)
    results: list[tuple[int, dict]] = []

    def create() -> None:
        response = write_post(app.test_client(), writer, title="Photo Finish", tags=["shared"])
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert [status for status, _ in results] == [201, 201], results
    assert sorted(body["slug"] for _, body in results) == ["photo-finish", "photo-finish-2"]
    assert [body["tags"] for _, body in results] == [["shared"], ["shared"]]
    assert slug_conflicts == [True]  # the loser hit the unique constraint once, then took -2
    with app.app_context():
        assert db.session.scalars(select(Tag.slug)).all() == ["shared"]
        db.engine.dispose()


def test_a_tag_created_by_a_concurrent_request_is_reused(monkeypatch, app, client, author):
    """The first lookup misses a tag another request then commits; the insert fails; retry."""
    new_post(client, author, tags=["Rust"])
    real_execute = db.session.execute
    calls = {"n": 0}

    def first_lookup_misses(statement, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1 and "tags" in str(statement):
            return iter([])
        return real_execute(statement, *args, **kwargs)

    with app.test_request_context():
        rust_id = db.session.scalar(select(Tag.id).where(Tag.slug == "rust"))
        monkeypatch.setattr(db.session, "execute", first_lookup_misses)
        ids = tag_service.resolve_tags({"rust": "rust", "go": "Go"})
        assert list(ids) == ["rust", "go"]
        assert ids["rust"] == rust_id  # the existing row, not a second one
        db.session.commit()
        monkeypatch.undo()
        stored = db.session.execute(select(Tag.slug, Tag.name).order_by(Tag.slug)).all()
        assert [tuple(row) for row in stored] == [("go", "Go"), ("rust", "Rust")]
