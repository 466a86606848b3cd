"""Repeated reads are replayed before Flask runs, yet every write, revocation, role or profile
change is seen by the very next request: the layer reads what its answer depends on first."""

from __future__ import annotations

import functools
import time
from datetime import timedelta

import pytest

from blogapi.extensions import limiter
from blogapi.timeutil import utcnow
from tests.support.accounts import bearer, sign_up
from tests.support.apps import dispose, make_app
from tests.support.databases import counted_queries
from tests.support.posts import API, new_post, publish, published_post


@pytest.fixture
def views_run(app) -> list[str]:
    """The endpoints whose Flask views ran (a replayed answer runs none)."""
    ran: list[str] = []

    def counted(name, view):
        @functools.wraps(view)  # keeps what the layer looks for on a view
        def wrapper(*args, **kwargs):
            ran.append(name)
            return view(*args, **kwargs)

        return wrapper

    for name, view in list(app.view_functions.items()):
        app.view_functions[name] = counted(name, view)
    return ran


def read_twice(client, url, **kwargs):
    """The same read twice: the second one may be a replay."""
    first = client.get(url, **kwargs)
    return first, client.get(url, **kwargs)


def test_a_repeated_public_read_costs_one_statement_and_no_view(app, client, author, views_run):
    published_post(client, author, title="Replayed")
    first, second = read_twice(client, f"{API}/posts")
    views_run.clear()
    with counted_queries(app) as statements:
        third = client.get(f"{API}/posts")
    assert views_run == []
    assert first.data == second.data == third.data
    assert third.headers["ETag"] == first.headers["ETag"]
    assert third.headers["Cache-Control"] == "public, no-cache"
    assert [s for s, _ in statements] == [
        "SELECT value, changed_at FROM content_version WHERE id = 1"
    ]


def test_a_replay_never_outlives_a_write(client, author):
    post = published_post(client, author, title="Before")
    read_twice(client, f"{API}/posts/{post['id']}")
    client.patch(f"{API}/posts/{post['id']}", json={"title": "After"}, headers=author.headers)
    assert client.get(f"{API}/posts/{post['id']}").get_json()["title"] == "After"


def test_an_editors_list_with_drafts_is_replayed_until_anyone_writes(
    app, client, make_account, author
):
    editor = make_account("editor")
    new_post(client, author, title="First draft")
    first, second = read_twice(client, f"{API}/posts?status=all", headers=editor.headers)
    assert first.data == second.data
    assert second.headers["Cache-Control"] == "no-store"  # never in a shared cache
    new_post(client, author, title="Second draft")
    titles = [
        p["title"]
        for p in client.get(f"{API}/posts?status=all", headers=editor.headers).json["items"]
    ]
    assert titles == ["Second draft", "First draft"]
    # Each caller keeps their own answers: the author sees only their own, the public none.
    assert client.get(f"{API}/posts?status=all").json["items"] == []


def test_a_replayed_read_is_refused_at_once_when_its_token_is_revoked(client, author):
    read_twice(client, f"{API}/auth/me", headers=author.headers)
    assert client.post(f"{API}/auth/logout", headers=author.headers).status_code == 204
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 401


def test_a_role_change_and_a_deactivation_apply_to_the_next_request(
    client, make_account, author, admin
):
    editor = make_account("editor")
    draft = new_post(client, author, title="Someone else's draft")
    url = f"{API}/posts?status=all"
    first, _ = read_twice(client, url, headers=editor.headers)
    assert [p["id"] for p in first.json["items"]] == [draft["id"]]
    demote = client.patch(
        f"{API}/users/{editor.username}", json={"role": "author"}, headers=admin.headers
    )
    assert demote.status_code == 200
    assert client.get(url, headers=editor.headers).json["items"] == []
    client.patch(f"{API}/users/{editor.username}", json={"active": False}, headers=admin.headers)
    assert client.get(url, headers=editor.headers).status_code == 401


def test_my_account_shows_a_profile_change_at_once(client, author, views_run):
    read_twice(client, f"{API}/auth/me", headers=author.headers)
    views_run.clear()
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 200
    assert views_run == []  # replayed
    renamed = client.patch(
        f"{API}/auth/me", json={"display_name": "New Name"}, headers=author.headers
    )
    assert renamed.status_code == 200
    assert client.get(f"{API}/auth/me", headers=author.headers).json["display_name"] == "New Name"


def test_an_expired_token_is_refused_although_its_answer_was_replayed():
    app = make_app(JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=1), JWT_DECODE_LEEWAY=0)
    client = app.test_client()
    account = sign_up(client, app, "brief", "author")
    read_twice(client, f"{API}/auth/me", headers=account.headers)
    time.sleep(2.05)  # past `exp`, which counts whole seconds
    assert client.get(f"{API}/auth/me", headers=account.headers).status_code == 401


def test_conditional_requests_and_personal_tokens_go_through_flask(client, author, views_run):
    post = published_post(client, author, title="Conditional")
    url = f"{API}/posts/{post['id']}"
    first, _ = read_twice(client, url)
    views_run.clear()
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and views_run
    token = client.post(
        f"{API}/auth/tokens", json={"name": "reader", "scopes": ["create"]}, headers=author.headers
    ).json["token"]
    read_twice(client, f"{API}/auth/me", headers=bearer(token))
    views_run.clear()
    assert client.get(f"{API}/auth/me", headers=bearer(token)).status_code == 200
    assert views_run  # a personal token is checked by the app every time


def test_default_rate_limits_count_every_request():
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DEFAULT="3 per minute")
    try:
        client = app.test_client()
        statuses = [client.get(f"{API}/posts").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
    finally:
        limiter.limit_manager.set_default_limits([])  # the limiter outlives this app
        dispose(app)


def test_a_replay_ends_when_a_scheduled_post_goes_live(client, author):
    post = new_post(client, author, title="Soon")
    publish(client, author, post["id"], utcnow() + timedelta(seconds=1.5))
    read_twice(client, f"{API}/posts")
    assert client.get(f"{API}/posts").json["meta"]["total"] == 0
    time.sleep(1.6)
    assert client.get(f"{API}/posts").json["meta"]["total"] == 1


def test_reads_no_view_offers_for_replay_cost_no_statement(app, client):
    with counted_queries(app) as statements:
        assert client.get(f"{API}/no-such-thing").status_code == 404
        assert client.get("/media/not-a-key.png").status_code == 404
    assert statements == []  # nothing was read for a replay that could never be
