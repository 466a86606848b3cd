"""Stories about publishing now, scheduling for later, backdating and unpublishing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from blogapi.timeutil import utcnow
from tests.support.posts import API, iso, new_post, publish
from tests.support.problems import assert_problem


def list_ids(client, headers=None, **params) -> list[int]:
    """Ids on the first page of GET /posts."""
    response = client.get(f"{API}/posts", query_string=params, headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_publishing_a_draft_makes_it_public_now(client, author):
    post = new_post(client, author)
    before = utcnow()

    response = publish(client, author, post["id"])

    assert response.status_code == 200
    published = response.get_json()
    assert published["status"] == "published"
    assert datetime.fromisoformat(published["published_at"]) >= before
    assert published["updated_at"] == published["published_at"]
    assert response.headers["ETag"]
    assert client.get(f"{API}/posts/{post['id']}").get_json() == published
    assert list_ids(client) == [post["id"]]


def test_publishing_twice_is_idempotent_and_keeps_the_first_time(client, author):
    post = new_post(client, author)
    first = publish(client, author, post["id"])
    again = publish(client, author, post["id"])
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["ETag"] == first.headers["ETag"]


def test_publish_at_in_the_future_schedules_and_hides_the_post(client, author, make_account):
    post = new_post(client, author)
    at = utcnow() + timedelta(days=2)

    scheduled = publish(client, author, post["id"], at).get_json()

    assert scheduled["status"] == "scheduled"
    assert scheduled["published_at"] == iso(at)
    assert_problem(client.get(f"{API}/posts/{post['id']}"), 404)
    reader = make_account("author")
    assert_problem(client.get(f"{API}/posts/{post['id']}", headers=reader.headers), 404)
    assert list_ids(client) == []
    assert list_ids(client, author.headers, status="scheduled") == [post["id"]]
    assert client.get(f"{API}/posts/{post['id']}", headers=author.headers).status_code == 200


def test_a_post_scheduled_a_second_ahead_appears_after_it(client, author):
    post = new_post(client, author, tags=["soon"])
    publish(client, author, post["id"], utcnow() + timedelta(seconds=1))
    assert list_ids(client) == []
    assert client.get(f"{API}/tags").get_json() == []

    time.sleep(1.2)  # no background job: the clock alone makes it live

    assert list_ids(client) == [post["id"]]
    shown = client.get(f"{API}/posts/{post['id']}").get_json()
    assert shown["status"] == "published"
    assert client.get(f"{API}/tags").get_json() == [
        {"name": "soon", "slug": "soon", "post_count": 1}
    ]


def test_publishing_a_scheduled_post_without_a_time_publishes_it_now(client, author):
    post = new_post(client, author)
    publish(client, author, post["id"], utcnow() + timedelta(days=1))
    now = publish(client, author, post["id"]).get_json()
    assert now["status"] == "published"
    assert datetime.fromisoformat(now["published_at"]) <= utcnow()


def test_rescheduling_and_backdating(client, author):
    post = new_post(client, author)
    publish(client, author, post["id"])
    past = datetime(2020, 5, 17, 8, 30, tzinfo=UTC)

    backdated = publish(client, author, post["id"], past).get_json()

    assert backdated["published_at"] == "2020-05-17T08:30:00Z"
    assert backdated["status"] == "published"
    later = publish(client, author, post["id"], utcnow() + timedelta(hours=1)).get_json()
    assert later["status"] == "scheduled"


def test_publish_at_with_an_offset_is_stored_in_utc(client, author):
    post = new_post(client, author)
    response = client.post(
        f"{API}/posts/{post['id']}/publish",
        json={"publish_at": "2021-03-04T12:00:00+02:00"},
        headers=author.headers,
    )
    assert response.get_json()["published_at"] == "2021-03-04T10:00:00Z"


@pytest.mark.parametrize(
    "body",
    [
        {"publish_at": "2026-11-23T10:00:00"},
        {"publish_at": "tomorrow"},
        {"publish_at": None},
        {"publish_at": 1700000000},
        {"publish_at": "0001-01-01T00:00:00+05:00"},
        {"when": "2026-11-23T10:00:00Z"},
        {"status": "published"},
    ],
)
def test_bad_publish_bodies_are_422(client, author, body):
    post = new_post(client, author)
    response = client.post(f"{API}/posts/{post['id']}/publish", json=body, headers=author.headers)
    assert_problem(response, 422)
    assert client.get(f"{API}/posts/{post['id']}", headers=author.headers).get_json() == post


def test_publish_with_a_non_json_body_is_415(client, author):
    post = new_post(client, author)
    response = client.post(
        f"{API}/posts/{post['id']}/publish",
        data="publish_at=now",
        headers=author.headers | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


def test_unpublish_takes_a_post_back_to_draft(client, author):
    post = new_post(client, author)
    publish(client, author, post["id"])

    response = client.post(f"{API}/posts/{post['id']}/unpublish", headers=author.headers)

    assert response.status_code == 200
    assert response.get_json()["status"] == "draft"
    assert response.get_json()["published_at"] is None
    assert_problem(client.get(f"{API}/posts/{post['id']}"), 404)
    again = client.post(f"{API}/posts/{post['slug']}/unpublish", headers=author.headers)
    assert again.get_json() == response.get_json()


def test_unpublish_takes_no_fields(client, author):
    post = new_post(client, author)
    response = client.post(
        f"{API}/posts/{post['id']}/unpublish", json={"at": "now"}, headers=author.headers
    )
    assert "at" in assert_problem(response, 422)["errors"]


def test_status_follows_published_at_in_every_list(client, author):
    draft = new_post(client, author, title="d")
    scheduled = new_post(client, author, title="s")
    live = new_post(client, author, title="p")
    publish(client, author, scheduled["id"], utcnow() + timedelta(days=1))
    publish(client, author, live["id"])

    for status, ids in [
        ("draft", [draft["id"]]),
        ("scheduled", [scheduled["id"]]),
        ("published", [live["id"]]),
    ]:
        response = client.get(f"{API}/posts?status={status}", headers=author.headers)
        items = response.get_json()["items"]
        assert [item["id"] for item in items] == ids
        assert {item["status"] for item in items} == {status}
    everything = list_ids(client, author.headers, status="all", sort="title")
    assert everything == [draft["id"], live["id"], scheduled["id"]]
