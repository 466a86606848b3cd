"""Races between two gunicorn instances on one database: the database decides, not luck.

Each race is fired by threads released together by a barrier, spread over instances A and B
(two workers each, production mode), first on a PostgreSQL server of the test's own, then on
one SQLite file. It starts its own database, so it runs once: in the suite's SQLite pass.
(One test holds a race's window open in-process instead, on the suite's database.)
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from blogapi.db.models import Post
from blogapi.extensions import db
from blogapi.posts import service
from blogapi.timeutil import utcnow
from devtools.binaries import find_pg_bindir
from devtools.live import OPEN_REGISTRATION, LiveServer, migrate, production_env
from devtools.postgres_server import PostgresServer
from tests.support.accounts import PASSWORD, Account, bearer
from tests.support.databases import manage
from tests.support.indieauth import SignIn, code_over_http
from tests.support.media import image_bytes
from tests.support.posts import API, new_post, publish
from tests.support.prerequisites import unavailable
from tests.support.races import TIMEOUT, Cluster, Writer, race, server_errors, statuses

pytestmark = pytest.mark.slow


def postgres_url(stack: ExitStack) -> str:
    """A database on a PostgreSQL server of our own; skip (fail on CI) without the binaries."""
    bindir = find_pg_bindir()
    if bindir is None:
        unavailable("PostgreSQL server binaries are not installed")
    return stack.enter_context(PostgresServer("blogapi_races", bindir=bindir)).url


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Instances A and B (gunicorn, two workers each, production mode) on one database."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs once, in the SQLite pass: it starts its own PostgreSQL")
    workdir = tmp_path_factory.mktemp(request.param)
    with ExitStack() as stack:
        url = (
            postgres_url(stack)
            if request.param == "postgresql"
            else f"sqlite:///{workdir / 'races.db'}"
        )
        # One environment for both: the same signing key, as instances behind one balancer have.
        env = production_env(url, RATELIMIT_ENABLED="false", **OPEN_REGISTRATION)
        migrate(env)
        servers = [LiveServer(env, workers=2, log_path=workdir / f"{name}.log") for name in "ab"]
        for server in servers:
            stack.callback(server.stop)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(LiveServer.start, servers))
        cluster = Cluster(request.param, url, servers)
        stack.callback(cluster.close)
        yield cluster


def test_sixteen_posts_with_one_title_get_sixteen_slugs(cluster: Cluster) -> None:
    writer = cluster.account()
    payload = {"title": "Race to the top", "body": "Go!", "tags": ["race", "photo finish"]}
    responses = race(
        [
            partial(
                requests.post,
                f"{cluster.api(n)}/posts",
                json=payload,
                headers=writer.headers,
                timeout=TIMEOUT,
            )
            for n in range(16)
        ]
    )
    assert statuses(responses) == {201: 16}, server_errors(responses) or statuses(responses)
    slugs = {response.json()["slug"] for response in responses}
    assert slugs == {"race-to-the-top", *(f"race-to-the-top-{n}" for n in range(2, 17))}
    assert cluster.scalar("SELECT count(*) FROM tags WHERE slug IN ('race', 'photo-finish')") == 2
    assert cluster.scalar("SELECT count(*) FROM post_tags") == 32


def test_of_eight_editors_with_one_if_match_exactly_one_wins(cluster: Cluster) -> None:
    owner, editor = cluster.account(), cluster.account("editor")
    post = cluster.create_post(owner, title="Contested", body="Nobody has edited this yet.\n")
    etag = post["etag"]
    for round_ in range(1, 4):  # each round from the ETag the last winner got back
        writers = [(owner, editor)[n // 2 % 2] for n in range(8)]
        calls = [
            partial(
                requests.patch,
                f"{cluster.api(n)}/posts/{post['id']}",
                json={
                    "title": f"Edit {round_}.{n}",
                    "body": f"Round {round_}, written by editor {n}.\n",
                    "tags": [f"editor {n}"],
                },
                headers={**writers[n].headers, "If-Match": etag},
                timeout=TIMEOUT,
            )
            for n in range(8)
        ]
        responses = race(calls)
        counts = statuses(responses)
        assert counts == {200: 1, 412: 7}, server_errors(responses) or counts
        n, response = next((n, r) for n, r in enumerate(responses) if r.status_code == 200)
        winner, etag = response.json(), response.headers["ETag"]
        stored = cluster.sql("SELECT title, version FROM posts WHERE id = :id", id=post["id"])
        assert [tuple(row) for row in stored] == [(winner["title"], round_ + 1)]
        # Exactly one revision more, numbered on from the last, holding the winner's edit.
        assert cluster.revision_numbers(post["id"]) == list(range(1, round_ + 2))
        newest = requests.get(
            f"{cluster.api(round_)}/posts/{post['id']}/revisions/{round_ + 1}",
            headers=owner.headers,
            timeout=TIMEOUT,
        )
        assert newest.status_code == 200, newest.text
        revision = newest.json()
        assert (revision["title"], revision["body"], revision["tags"]) == (
            winner["title"],
            winner["body"],
            winner["tags"],
        )
        assert revision["author"]["username"] == writers[n].username
    assert cluster.half_written() == []


def test_eight_restores_of_one_revision_at_once_add_one_revision(cluster: Cluster) -> None:
    owner, editor = cluster.account(), cluster.account("editor")
    post = cluster.create_post(owner, title="Second draft", body="The first words.\n")
    url = f"/posts/{post['id']}"
    edited = requests.patch(
        f"{cluster.api(0)}{url}",
        json={"title": "Third draft", "body": "Other words.\n"},
        headers={**owner.headers, "If-Match": post["etag"]},
        timeout=TIMEOUT,
    )
    assert edited.status_code == 200, edited.text
    writers = [(owner, editor)[n // 2 % 2] for n in range(8)]

    def restore(number: int, if_match: str | None) -> list[requests.Response]:
        condition = {"If-Match": if_match} if if_match else {}
        return race(
            [
                partial(
                    requests.post,
                    f"{cluster.api(n)}{url}/revisions/{number}/restore",
                    headers={**writers[n].headers, **condition},
                    timeout=TIMEOUT,
                )
                for n in range(8)
            ]
        )

    # With one If-Match: one wins, and only its restore is recorded.
    responses = restore(1, edited.headers["ETag"])
    counts = statuses(responses)
    assert counts == {200: 1, 412: 7}, server_errors(responses) or counts
    n = next(n for n, r in enumerate(responses) if r.status_code == 200)
    assert cluster.revision_numbers(post["id"]) == [1, 2, 3]
    third = requests.get(
        f"{cluster.api(1)}{url}/revisions/3", headers=owner.headers, timeout=TIMEOUT
    )
    assert (third.json()["title"], third.json()["body"], third.json()["author"]["username"]) == (
        "Second draft",
        "The first words.\n",
        writers[n].username,
    )
    # Without: those that lose the race to write are 409; those that come after find the
    # content already there and change nothing. Still one revision.
    responses = restore(2, None)
    counts = statuses(responses)
    assert not server_errors(responses), server_errors(responses)
    assert counts[200] >= 1 and set(counts) <= {200, 409}, counts
    assert cluster.revision_numbers(post["id"]) == [1, 2, 3, 4]
    stored = cluster.sql("SELECT title, body FROM posts WHERE id = :id", id=post["id"])
    assert [tuple(row) for row in stored] == [("Third draft", "Other words.\n")]
    assert cluster.half_written() == []


def racing_delete(
    cluster: Cluster,
    owner: Writer,
    round_: int,
    url: str,
    method: Callable[..., requests.Response],
    suffix: str,
    body: dict[str, Any],
) -> list[requests.Response]:
    """`method` on the post at `url` + `suffix` (on one instance) and DELETE of the post (on
    the next), released at the same moment; their responses."""
    send = partial(method, f"{cluster.api(round_)}{url}{suffix}", json=body)
    delete = partial(requests.delete, f"{cluster.api(round_ + 1)}{url}")
    return race([partial(call, headers=owner.headers, timeout=TIMEOUT) for call in (send, delete)])


def test_an_edit_racing_delete_ends_in_a_whole_state(cluster: Cluster) -> None:
    owner = cluster.account()
    outcomes: Counter[tuple[int, int]] = Counter()
    for round_ in range(8):
        post = cluster.create_post(owner, title=f"Last words {round_}", body="Before.\n")
        url = f"/posts/{post['id']}"
        change = {"title": f"Famous last words {round_}", "body": "After.\n"}
        edit, delete = racing_delete(cluster, owner, round_, url, requests.patch, "", change)
        outcomes[edit.status_code, delete.status_code] += 1
        assert not server_errors([edit, delete]), server_errors([edit, delete])
        assert edit.status_code in {200, 404, 409} and delete.status_code in {204, 409}
        rows = cluster.sql("SELECT body, deleted_at FROM posts WHERE id = :id", id=post["id"])
        assert len(rows) == 1, rows
        body, deleted_at = rows[0]
        # The edit is there with its revision exactly when it said 200, trashed or not.
        edited = edit.status_code == 200
        assert (body, cluster.revision_numbers(post["id"])) == (
            ("After.\n", [1, 2]) if edited else ("Before.\n", [1])
        )
        assert (deleted_at is not None) == (delete.status_code == 204)
        if delete.status_code == 409:  # it read the post before the edit committed
            assert edited, edit.text
    assert cluster.half_written() == []
    print(f"{cluster.backend} edit/delete outcomes: {dict(outcomes)}")


@pytest.mark.parametrize("shared", ["username", "email"])
def test_of_sixteen_registrations_for_one_name_exactly_one_succeeds(
    cluster: Cluster, shared: str
) -> None:
    spellings = ["racer", "Racer", "RACER", "rAcEr"]  # compared without case

    def payload(n: int) -> dict[str, str]:
        if shared == "username":
            return {"username": spellings[n % 4], "email": f"racer{n}@example.com"}
        return {"username": f"mailer{n}", "email": f"{spellings[n % 4]}@example.org"}

    calls = [
        partial(
            requests.post,
            f"{cluster.api(n)}/auth/register",
            json={**payload(n), "password": PASSWORD},
            timeout=TIMEOUT,
        )
        for n in range(16)
    ]
    responses = race(calls)
    assert statuses(responses) == {201: 1, 409: 15}, server_errors(responses) or statuses(responses)
    assert all(shared in r.json()["errors"] for r in responses if r.status_code == 409)
    column = "username_key" if shared == "username" else "email_key"
    key = "racer" if shared == "username" else "racer@example.org"
    assert cluster.scalar(f"SELECT count(*) FROM users WHERE {column} = :k", k=key) == 1


def test_publish_racing_delete_ends_in_a_whole_state(cluster: Cluster) -> None:
    owner = cluster.account()
    owner_id = cluster.scalar("SELECT id FROM users WHERE username = :u", u=owner.username)
    outcomes: Counter[tuple[int, int]] = Counter()
    for round_ in range(10):
        post = cluster.create_post(
            owner, title=f"Doomed {round_}", tags=["doomed", f"round {round_}"]
        )
        url = f"/posts/{post['id']}"
        publish, delete = racing_delete(cluster, owner, round_, url, requests.post, "/publish", {})
        outcomes[publish.status_code, delete.status_code] += 1
        assert not server_errors([publish, delete]), server_errors([publish, delete])
        # DELETE moves the post to the trash: its row, links and revision stay either way.
        rows = cluster.sql(
            "SELECT published_at, deleted_at, deleted_by_id FROM posts WHERE id = :id",
            id=post["id"],
        )
        assert len(rows) == 1, rows
        published_at, deleted_at, deleted_by = rows[0]
        links = cluster.scalar("SELECT count(*) FROM post_tags WHERE post_id = :id", id=post["id"])
        seen = requests.get(f"{cluster.api(round_)}{url}", timeout=TIMEOUT).status_code
        listed = post["id"] in cluster.listed(owner, round_)
        if delete.status_code == 204:
            assert publish.status_code in {200, 404, 409}, publish.text
            # The publish committed before the delete read the post (it is in the trash
            # published), or it came after and failed: the trash holds a draft.
            assert (published_at is not None) == (publish.status_code == 200), publish.text
            assert deleted_at is not None and deleted_by == owner_id
            assert (links, seen, listed) == (2, 404, False)
        else:
            # The delete read the post before the publish committed: it lost, and says so.
            assert (publish.status_code, delete.status_code) == (200, 409), delete.text
            assert published_at is not None and (deleted_at, deleted_by) == (None, None)
            assert (links, seen, listed) == (2, 200, True)
        assert cluster.revision_numbers(post["id"]) == [1]  # neither changes the content
    orphans = "SELECT count(*) FROM post_tags WHERE post_id NOT IN (SELECT id FROM posts)"
    assert cluster.scalar(orphans) == 0
    assert cluster.half_written() == []
    print(f"{cluster.backend} publish/delete outcomes: {dict(outcomes)}")


def test_a_publish_trashed_before_it_answers_still_says_it_published(
    app: Flask, client: FlaskClient, author: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The window the race above hits now and then, held open: a DELETE commits between the
    # publish's commit and its read of the post it answers with.
    post = new_post(client, author, title="Published, then trashed")
    read_back = service.stored

    def trashed_meanwhile(post_id: int) -> Post:
        db.session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(deleted_at=utcnow(), version=Post.version + 1)
        )
        db.session.commit()
        return read_back(post_id)

    monkeypatch.setattr(service, "stored", trashed_meanwhile)
    published = publish(client, author, post["id"])
    monkeypatch.undo()
    assert published.status_code == 200, published.get_json()  # it did publish: not 409
    assert published.get_json()["status"] == "published"
    trash = client.get(f"{API}/trash", headers=author.headers).get_json()["items"]
    assert [(item["id"], item["status"]) for item in trash] == [(post["id"], "published")]


def trashed_post(cluster: Cluster, writer: Writer, title: str, tags: list[str]) -> dict[str, Any]:
    """A post the writer published, edited once (two revisions), then moved to the trash."""
    post = cluster.create_post(writer, title=title, tags=tags, body="First words.\n")
    url = f"{cluster.api(0)}/posts/{post['id']}"
    published = requests.post(f"{url}/publish", json={}, headers=writer.headers, timeout=TIMEOUT)
    assert published.status_code == 200, published.text
    edit = {"body": "Second thoughts.\n"}
    edited = requests.patch(url, json=edit, headers=writer.headers, timeout=TIMEOUT)
    assert edited.status_code == 200, edited.text
    deleted = requests.delete(url, headers=writer.headers, timeout=TIMEOUT)
    assert deleted.status_code == 204, deleted.text
    return dict(edited.json())


def test_of_eight_restores_from_the_trash_exactly_one_brings_the_post_back(
    cluster: Cluster,
) -> None:
    owner, editor = cluster.account(), cluster.account("editor")
    outcomes: Counter[int] = Counter()
    for round_ in range(4):
        post = trashed_post(cluster, owner, f"Lost and found {round_}", ["found"])
        calls = [
            partial(
                requests.post,
                f"{cluster.api(n)}/posts/{post['id']}/restore",
                headers=(owner, editor)[n // 2 % 2].headers,
                timeout=TIMEOUT,
            )
            for n in range(8)
        ]
        responses = race(calls)
        counts = statuses(responses)
        outcomes.update(counts)
        # The others found it live already (404), or lost the race to write (409).
        assert not server_errors(responses), server_errors(responses)
        assert counts[200] == 1 and set(counts) <= {200, 404, 409}, counts
        restored = next(r.json() for r in responses if r.status_code == 200)
        assert (restored["status"], restored["published_at"], restored["body"]) == (
            "published",
            post["published_at"],
            "Second thoughts.\n",
        )
        rows = cluster.sql(
            "SELECT deleted_at, deleted_by_id FROM posts WHERE id = :id", id=post["id"]
        )
        assert [tuple(row) for row in rows] == [(None, None)]
        assert cluster.listed(owner, round_).count(post["id"]) == 1
        public = requests.get(f"{cluster.api(round_ + 1)}/posts/{post['id']}", timeout=TIMEOUT)
        assert public.status_code == 200
        assert cluster.revision_numbers(post["id"]) == [1, 2]  # restoring adds no revision
        trash = requests.get(f"{cluster.api(round_)}/trash", headers=owner.headers, timeout=TIMEOUT)
        assert post["id"] not in [item["id"] for item in trash.json()["items"]]
    assert cluster.half_written() == []
    print(f"{cluster.backend} restore race statuses: {dict(outcomes)}")


def test_restore_racing_purge_leaves_the_post_live_or_gone_never_half(cluster: Cluster) -> None:
    owner = cluster.account()
    keeper = cluster.create_post(owner, title="Keeps a shared tag", tags=["shared by two"])
    outcomes: Counter[tuple[int, int]] = Counter()
    for round_ in range(10):
        post = trashed_post(cluster, owner, f"Limbo {round_}", ["shared by two", f"limbo {round_}"])
        url = f"/posts/{post['id']}"
        restore, purge = race(
            [
                partial(
                    requests.post,
                    f"{cluster.api(round_)}{url}/restore",
                    headers=owner.headers,
                    timeout=TIMEOUT,
                ),
                partial(
                    requests.delete,
                    f"{cluster.api(round_ + 1)}/trash/{post['id']}",
                    headers=owner.headers,
                    timeout=TIMEOUT,
                ),
            ]
        )
        outcomes[restore.status_code, purge.status_code] += 1
        assert not server_errors([restore, purge]), server_errors([restore, purge])
        rows = cluster.sql("SELECT deleted_at FROM posts WHERE id = :id", id=post["id"])
        links = cluster.scalar("SELECT count(*) FROM post_tags WHERE post_id = :id", id=post["id"])
        own_tag = cluster.scalar("SELECT count(*) FROM tags WHERE slug = :s", s=f"limbo-{round_}")
        seen = requests.get(f"{cluster.api(round_)}{url}", timeout=TIMEOUT).status_code
        whole = ([tuple(row) for row in rows], links, own_tag, seen)
        if restore.status_code == 200:
            # The purge came after (404: not in the trash) or lost the race to write (409).
            assert purge.status_code in {404, 409}, purge.text
            assert whole == ([(None,)], 2, 1, 200)
            assert cluster.revision_numbers(post["id"]) == [1, 2]
        else:
            # The restore came after (404: not in the trash) or lost the race to write (409).
            assert purge.status_code == 204 and restore.status_code in {404, 409}, restore.text
            assert whole == ([], 0, 0, 404)  # its revisions and its own tag went with it
            assert cluster.revision_numbers(post["id"]) == []
    kept = requests.get(
        f"{cluster.api(0)}/posts/{keeper['id']}", headers=owner.headers, timeout=TIMEOUT
    )
    assert kept.json()["tags"] == ["shared-by-two"]  # the tag another post uses stays
    assert cluster.half_written() == []
    print(f"{cluster.backend} restore/purge outcomes: {dict(outcomes)}")


# What each of two admins does to the other, round by round: demote, deactivate, or one of each.
ADMIN_CHANGES = [
    ({"role": "editor"},) * 2,
    ({"active": False},) * 2,
    ({"role": "author"}, {"active": False}),
]


def test_two_admins_demoting_each_other_at_once_leave_one_admin(cluster: Cluster) -> None:
    outcomes: Counter[tuple[int, int]] = Counter()
    for round_ in range(12):
        first, second = cluster.account("admin"), cluster.account("admin")
        # Exactly these two are the active admins when they race.
        cluster.execute(
            "UPDATE users SET role = 'author' WHERE role = 'admin' AND username NOT IN (:a, :b)",
            a=first.username,
            b=second.username,
        )
        changes = ADMIN_CHANGES[round_ % len(ADMIN_CHANGES)]
        responses = race(
            [
                partial(
                    requests.patch,
                    f"{cluster.api(round_ + n)}/users/{target.username}",
                    json=change,
                    headers=actor.headers,
                    timeout=TIMEOUT,
                )
                for n, (actor, target, change) in enumerate(
                    [(first, second, changes[0]), (second, first, changes[1])]
                )
            ]
        )
        outcome = responses[0].status_code, responses[1].status_code
        outcomes[outcome] += 1
        admins = "SELECT count(*) FROM users WHERE role = 'admin' AND active"
        assert cluster.scalar(admins) == 1, server_errors(responses) or outcomes
        # The loser raced the check (409), or came after the winner's commit and is no longer
        # an active admin itself (401 deactivated, 403 demoted).
        assert sorted(outcome) in ([200, 401], [200, 403], [200, 409]), outcomes
        for refused in responses:
            if refused.status_code == 409:
                assert "last active admin" in refused.json()["detail"]
    print(f"{cluster.backend} admin race outcomes: {dict(outcomes)}")
    assert any(409 in outcome for outcome in outcomes), "no round raced: the test proved nothing"


def test_one_refresh_token_sent_eight_times_at_once_rotates_once(cluster: Cluster) -> None:
    writer = cluster.account()
    calls = [
        partial(
            requests.post,
            f"{cluster.api(n)}/auth/refresh",
            headers=bearer(writer.refresh_token),
            timeout=TIMEOUT,
        )
        for n in range(8)
    ]
    responses = race(calls)
    assert statuses(responses) == {200: 1, 401: 7}, server_errors(responses) or statuses(responses)
    # The duplicates are reuse: every token of the user dies, the winner's new pair too.
    winner = next(r.json() for r in responses if r.status_code == 200)
    for n in range(4):
        me = requests.get(
            f"{cluster.api(n)}/auth/me", headers=bearer(winner["access_token"]), timeout=TIMEOUT
        )
        assert me.status_code == 401
        old = requests.get(f"{cluster.api(n)}/auth/me", headers=writer.headers, timeout=TIMEOUT)
        assert old.status_code == 401
    again = requests.post(
        f"{cluster.api(1)}/auth/refresh", headers=bearer(winner["refresh_token"]), timeout=TIMEOUT
    )
    assert again.status_code == 401


def me_statuses(cluster: Cluster, instance: int, token: str) -> set[int]:
    """GET /auth/me four times on one instance (both its workers), as a set of statuses."""
    api = cluster.api(instance)
    return {
        requests.get(f"{api}/auth/me", headers=bearer(token), timeout=TIMEOUT).status_code
        for _ in range(4)
    }


def test_tokens_and_their_revocation_hold_on_every_instance_at_once(cluster: Cluster) -> None:
    writer = cluster.account()  # logged in on B
    assert me_statuses(cluster, 0, writer.access_token) == {200}
    api_a, api_b = cluster.api(0), cluster.api(1)
    logout = requests.post(
        f"{api_a}/auth/logout",
        json={"refresh_token": writer.refresh_token},
        headers=writer.headers,
        timeout=TIMEOUT,
    )
    assert logout.status_code == 204
    assert me_statuses(cluster, 1, writer.access_token) == {401}
    refresh = requests.post(
        f"{api_b}/auth/refresh", headers=bearer(writer.refresh_token), timeout=TIMEOUT
    )
    assert refresh.status_code == 401

    on_a, on_b = cluster.login(writer.username, 0), cluster.login(writer.username, 1)
    changed = requests.put(
        f"{api_b}/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=on_b.headers,
        timeout=TIMEOUT,
    )
    assert changed.status_code == 200, changed.text
    assert me_statuses(cluster, 0, on_a.access_token) == {401}
    assert me_statuses(cluster, 0, on_b.access_token) == {401}
    refresh = requests.post(
        f"{api_a}/auth/refresh", headers=bearer(on_a.refresh_token), timeout=TIMEOUT
    )
    assert refresh.status_code == 401
    assert me_statuses(cluster, 0, changed.json()["access_token"]) == {200}


def test_a_personal_token_revoked_on_one_instance_is_refused_on_the_other_at_once(
    cluster: Cluster,
) -> None:
    writer = cluster.account()
    api_a, api_b = cluster.api(0), cluster.api(1)
    made = requests.post(
        f"{api_a}/auth/tokens",
        json={"name": "phone", "scopes": ["create"]},
        headers=writer.headers,
        timeout=TIMEOUT,
    )
    assert made.status_code == 201, made.text
    token = made.json()
    assert me_statuses(cluster, 1, token["token"]) == {200}

    # Eight requests with the token race its revocation; once the DELETE has answered, every
    # worker of both instances refuses it.
    def use() -> requests.Response:
        return requests.get(f"{api_b}/auth/me", headers=bearer(token["token"]), timeout=TIMEOUT)

    def revoke() -> requests.Response:
        return requests.delete(
            f"{api_a}/auth/tokens/{token['id']}", headers=writer.headers, timeout=TIMEOUT
        )

    replies = race([use] * 8 + [revoke])
    assert replies[-1].status_code == 204
    assert set(statuses(replies[:-1])) <= {200, 401}
    assert me_statuses(cluster, 1, token["token"]) == {401}
    assert me_statuses(cluster, 0, token["token"]) == {401}

    # Deactivating the user on B refuses their other token on A at once too.
    other = requests.post(
        f"{api_b}/auth/tokens",
        json={"name": "laptop", "scopes": ["create"]},
        headers=writer.headers,
        timeout=TIMEOUT,
    ).json()
    assert me_statuses(cluster, 0, other["token"]) == {200}
    admin = cluster.account("admin")
    deactivated = requests.patch(
        f"{api_b}/users/{writer.username}",
        json={"active": False},
        headers=admin.headers,
        timeout=TIMEOUT,
    )
    assert deactivated.status_code == 200
    assert me_statuses(cluster, 0, other["token"]) == {401}


def test_one_authorization_code_sent_eight_times_at_once_leaves_no_live_token(
    cluster: Cluster,
) -> None:
    writer = cluster.account()
    sign_in = SignIn(scope="create")
    code = code_over_http(cluster.servers[0].url, writer.username, sign_in)
    calls = [
        partial(
            requests.post,
            f"{cluster.servers[n % 2].url}/indieauth/token",
            data=sign_in.exchange_form(code),
            timeout=TIMEOUT,
        )
        for n in range(8)
    ]
    responses = race(calls)
    counted = statuses(responses)
    # One exchange may win; every other use is a replay, which revokes what the winner got
    # (or, landing first, keeps it from being issued at all).
    assert counted in ({200: 1, 400: 7}, {400: 8}), server_errors(responses) or counted
    for reply in responses:
        if reply.status_code == 400:
            assert reply.json()["error"] == "invalid_grant"
        else:
            token = reply.json()["access_token"]
            assert me_statuses(cluster, 0, token) == {401}
            assert me_statuses(cluster, 1, token) == {401}
    mine = requests.get(f"{cluster.api(1)}/auth/tokens", headers=writer.headers, timeout=TIMEOUT)
    assert mine.json() == []


@pytest.mark.parametrize("stopped_at", ["post", "revision"])
def test_a_worker_killed_mid_request_leaves_no_half_written_post(
    cluster: Cluster, stopped_at: str
) -> None:
    writer = cluster.account()
    user_id = cluster.scalar("SELECT id FROM users WHERE username = :u", u=writer.username)
    title, tag = f"Half written to the {stopped_at}", f"kill switch {stopped_at}"
    payload = {"title": title, "body": "Never committed.", "tags": [tag]}
    create = partial(
        requests.post,
        f"{cluster.api(0)}/posts",
        json=payload,
        headers=writer.headers,
        timeout=TIMEOUT,
    )
    held = (
        cluster.writes_held(user_id)
        if stopped_at == "post"
        else cluster.inserts_held("post_revisions")
    )
    blocked_in = cluster.killed_mid_request(0, create, held)
    if cluster.backend == "postgresql":
        # "post": its tags and the post row are written, uncommitted; "revision": the post row
        # and its tag links too.
        expected = "INSERT INTO posts" if stopped_at == "post" else "INSERT INTO post_revisions"
        assert blocked_in.startswith(expected), blocked_in
    assert cluster.scalar("SELECT count(*) FROM posts WHERE title = :t", t=title) == 0
    assert cluster.scalar("SELECT count(*) FROM post_revisions WHERE title = :t", t=title) == 0
    assert cluster.scalar("SELECT count(*) FROM tags WHERE name = :n", n=tag) == 0
    assert cluster.half_written() == []
    again = cluster.create_post(writer, 0, **payload)
    assert again["tags"] == [f"kill-switch-{stopped_at}"]
    assert cluster.revision_numbers(again["id"]) == [1]
    assert cluster.half_written() == []


def test_a_worker_killed_mid_edit_leaves_the_old_content_and_its_revisions(
    cluster: Cluster,
) -> None:
    writer = cluster.account()
    post = cluster.create_post(writer, title="Before the kill", body="Old words.\n", tags=["old"])
    content = "SELECT title, slug, body, tag_names, version FROM posts WHERE id = :id"
    links = (
        "SELECT tags.slug FROM post_tags JOIN tags ON tags.id = post_tags.tag_id"
        " WHERE post_id = :id ORDER BY tags.slug"
    )

    def state() -> tuple[object, ...]:
        return (
            [tuple(row) for row in cluster.sql(content, id=post["id"])],
            [tuple(row) for row in cluster.sql(links, id=post["id"])],
            cluster.revision_numbers(post["id"]),
        )

    before = state()
    edit = {"title": "After the kill", "body": "New words.\n", "tags": ["new"]}
    url = f"{cluster.api(0)}/posts/{post['id']}"
    patch = partial(requests.patch, url, json=edit, headers=writer.headers, timeout=TIMEOUT)
    blocked_in = cluster.killed_mid_request(0, patch, cluster.inserts_held("post_revisions"))
    if cluster.backend == "postgresql":  # the post row and its new tag links are written
        assert blocked_in.startswith("INSERT INTO post_revisions"), blocked_in
    # Killed before its commit: the old content, its one revision, no new tag.
    assert state() == before
    assert cluster.scalar("SELECT count(*) FROM tags WHERE slug = 'new'") == 0
    assert cluster.half_written() == []
    again = requests.patch(url, json=edit, headers=writer.headers, timeout=TIMEOUT)
    assert again.status_code == 200, again.text
    assert cluster.revision_numbers(post["id"]) == [1, 2]
    newest = requests.get(f"{url}/revisions/2", headers=writer.headers, timeout=TIMEOUT).json()
    assert (newest["title"], newest["body"], newest["tags"]) == (
        "After the kill",
        "New words.\n",
        ["new"],
    )
    assert cluster.half_written() == []


def test_a_worker_killed_between_storing_files_and_their_row_leaves_orphans_prune_removes(
    cluster: Cluster,
) -> None:
    writer = cluster.account()
    media_root = Path(cluster.servers[0].env["MEDIA_ROOT"])

    def files() -> set[str]:
        return {path.name for path in media_root.glob("*/*") if not path.name.startswith(".")}

    image = image_bytes("PNG", (1000, 700), color=(12, 34, 56))
    send = partial(
        requests.post,
        f"{cluster.api(0)}/media",
        files={"file": ("killed.png", image, "image/png")},
        headers=writer.headers,
        timeout=TIMEOUT,
    )
    known = files()
    blocked_in = cluster.killed_mid_request(0, send, cluster.inserts_held("media"))
    if cluster.backend == "postgresql":
        assert blocked_in.startswith("INSERT INTO media"), blocked_in
    orphans = files() - known
    assert len(orphans) == 3  # the image and its variants at 320 and 768, stored before the row
    assert cluster.scalar("SELECT count(*) FROM media WHERE filename = 'killed.png'") == 0
    pruned = manage(cluster.url, "media", "prune", "--older-than", "0", **cluster_env(cluster))
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert files() == known
    again = send()
    assert again.status_code == 201, again.text
    stored = again.json()
    served = requests.get(f"{cluster.servers[1].url}/media/{stored['url'].rsplit('/', 1)[1]}")
    assert served.status_code == 200 and len(served.content) == stored["bytes"]


def cluster_env(cluster: Cluster) -> dict[str, str]:
    """The settings manage.py needs to act on the cluster's media (its folder)."""
    return {"MEDIA_ROOT": cluster.servers[0].env["MEDIA_ROOT"]}


def test_one_image_sent_four_times_at_once_by_one_writer_is_one_media(cluster: Cluster) -> None:
    writer = cluster.account()
    media_root = Path(cluster.servers[0].env["MEDIA_ROOT"])
    image = image_bytes("PNG", (900, 600), color=(99, 1, 1))
    send = [
        partial(
            requests.post,
            f"{cluster.api(n)}/media",
            files={"file": ("same.png", image, "image/png")},
            headers=writer.headers,
            timeout=TIMEOUT,
        )
        for n in range(4)
    ]
    responses = race(send)
    assert server_errors(responses) == []
    assert statuses(responses) == Counter({201: 1, 200: 3})
    assert len({response.json()["id"] for response in responses}) == 1
    assert cluster.scalar("SELECT count(*) FROM media WHERE filename = 'same.png'") == 1
    # The three that lost the race removed the files they had stored: no file without its row.
    named = set()
    for key, variants in cluster.sql("SELECT key, variants FROM media"):
        named |= {key, *(variant["key"] for variant in json.loads(variants))}
    stored = {path.name for path in media_root.glob("*/*") if not path.name.startswith(".")}
    assert stored == named
