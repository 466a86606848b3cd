"""The role-by-operation matrix: who may create, read, edit, publish, unpublish and delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from blogapi.db.models import User
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.accounts import set_role
from tests.support.posts import API, new_post, publish
from tests.support.problems import assert_problem

ROLES = ("anonymous", "contributor", "author", "editor", "admin")

# operation: (whose post, its state before, method, path suffix, body)
OPERATIONS: dict[str, tuple[str, str, str, str, dict[str, Any] | None]] = {
    "create": ("", "", "POST", "", {"title": "New", "body": "text"}),
    "read own draft": ("own", "draft", "GET", "", None),
    "read other's draft": ("other", "draft", "GET", "", None),
    "read other's scheduled": ("other", "scheduled", "GET", "", None),
    "read other's published": ("other", "published", "GET", "", None),
    "edit own draft": ("own", "draft", "PATCH", "", {"title": "Edited"}),
    "edit own published": ("own", "published", "PATCH", "", {"title": "Edited"}),
    "edit other's draft": ("other", "draft", "PATCH", "", {"title": "Edited"}),
    "edit other's published": ("other", "published", "PATCH", "", {"title": "Edited"}),
    "publish own draft": ("own", "draft", "POST", "/publish", None),
    "publish other's draft": ("other", "draft", "POST", "/publish", None),
    "publish other's published": ("other", "published", "POST", "/publish", None),
    "unpublish own published": ("own", "published", "POST", "/unpublish", None),
    "unpublish other's published": ("other", "published", "POST", "/unpublish", None),
    "unpublish other's scheduled": ("other", "scheduled", "POST", "/unpublish", None),
    "delete own draft": ("own", "draft", "DELETE", "", None),
    "delete own published": ("own", "published", "DELETE", "", None),
    "delete other's draft": ("other", "draft", "DELETE", "", None),
    "delete other's published": ("other", "published", "DELETE", "", None),
}

# Expected status per role, in ROLES order: anonymous, contributor, author, editor, admin.
# "-" marks an operation a role cannot even set up (anonymous owns nothing).
MATRIX = {
    "create": (401, 201, 201, 201, 201),
    "read own draft": ("-", 200, 200, 200, 200),
    "read other's draft": (404, 404, 404, 200, 200),
    "read other's scheduled": (404, 404, 404, 200, 200),
    "read other's published": (200, 200, 200, 200, 200),
    "edit own draft": ("-", 200, 200, 200, 200),
    "edit own published": ("-", 403, 200, 200, 200),
    "edit other's draft": (401, 404, 404, 200, 200),
    "edit other's published": (401, 403, 403, 200, 200),
    "publish own draft": ("-", 403, 200, 200, 200),
    "publish other's draft": (401, 404, 404, 200, 200),
    "publish other's published": (401, 403, 403, 200, 200),
    "unpublish own published": ("-", 403, 200, 200, 200),
    "unpublish other's published": (401, 403, 403, 200, 200),
    "unpublish other's scheduled": (401, 404, 404, 200, 200),
    "delete own draft": ("-", 204, 204, 204, 204),
    "delete own published": ("-", 403, 204, 204, 204),
    "delete other's draft": (401, 404, 404, 204, 204),
    "delete other's published": (401, 403, 403, 204, 204),
}

CASES = [
    pytest.param(role, operation, statuses[i], id=f"{role}-{operation}")
    for operation, statuses in MATRIX.items()
    for i, role in enumerate(ROLES)
    if statuses[i] != "-"
]


def prepare(client, make_account, role: str, whose: str, state: str) -> tuple[Any, Any]:
    """The acting account (None for anonymous) and the post it acts on, in the wanted state."""
    actor = None if role == "anonymous" else make_account(role)
    if not whose:
        return actor, None
    owner = actor if whose == "own" else make_account("author")
    post = new_post(client, owner, title=f"{whose} {state} post")
    if state != "draft":
        at = utcnow() + timedelta(days=1) if state == "scheduled" else None
        response = publish(client, make_account("editor"), post["id"], at)
        assert response.get_json()["status"] == state
        post = response.get_json()
    return actor, post


@pytest.mark.parametrize("role, operation, expected", CASES)
def test_role_matrix(client, make_account, role, operation, expected):
    whose, state, method, suffix, body = OPERATIONS[operation]
    actor, post = prepare(client, make_account, role, whose, state)
    path = f"{API}/posts" + (f"/{post['id']}{suffix}" if post else "")
    headers = actor.headers if actor else {}

    response = client.open(path, method=method, json=body, headers=headers)

    if expected >= 400:
        assert_problem(response, expected)
        if post is not None:  # a refused write changed nothing
            after = client.get(f"{API}/posts/{post['id']}", headers=make_account("admin").headers)
            assert after.get_json() == post
    else:
        assert response.status_code == expected, response.get_json()
        assert_effect(client, make_account("admin"), operation, response, post)


def assert_effect(client, admin, operation: str, response: Any, post: Any) -> None:
    """A permitted operation did what it says."""
    if operation == "create":
        assert client.get(response.headers["Location"], headers=admin.headers).status_code == 200
        return
    after = client.get(f"{API}/posts/{post['id']}", headers=admin.headers)
    if operation.startswith("delete"):
        assert_problem(after, 404)
    elif operation.startswith("edit"):
        assert after.get_json()["title"] == "Edited"
    elif operation.startswith("publish"):
        assert after.get_json()["status"] == "published"
    elif operation.startswith("unpublish"):
        assert after.get_json()["status"] == "draft"
    else:
        assert after.get_json() == response.get_json()


def test_a_role_change_takes_effect_on_the_next_request_with_the_same_token(
    app, client, make_account
):
    writer = make_account("author")
    post = new_post(client, writer)
    set_role(app, writer.username, "contributor")
    assert_problem(publish(client, writer, post["id"]), 403)
    set_role(app, writer.username, "author")
    assert publish(client, writer, post["id"]).status_code == 200


def test_a_deactivated_writer_is_401_at_once(app, client, make_account):
    writer = make_account("author")
    post = new_post(client, writer)
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == writer.username))
        user.active = False
        db.session.commit()
    response = client.patch(
        f"{API}/posts/{post['id']}", json={"title": "x"}, headers=writer.headers
    )
    assert_problem(response, 401)


def test_a_contributor_writes_a_draft_and_an_editor_publishes_it(client, make_account):
    contributor, editor = make_account("contributor"), make_account("editor")
    post = new_post(client, contributor, title="Guest post")
    edited = client.patch(
        f"{API}/posts/{post['id']}", json={"body": "better"}, headers=contributor.headers
    )
    assert edited.status_code == 200

    assert publish(client, editor, post["id"]).get_json()["status"] == "published"

    late = client.patch(
        f"{API}/posts/{post['id']}", json={"body": "x"}, headers=contributor.headers
    )
    assert_problem(late, 403)
    assert client.get(f"{API}/posts/{post['id']}").get_json()["author"]["username"] == (
        contributor.username
    )


def test_a_bad_token_is_401_even_on_a_public_read(client, author):
    post = new_post(client, author)
    response = client.get(f"{API}/posts/{post['id']}", headers={"Authorization": "Bearer nope"})
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
