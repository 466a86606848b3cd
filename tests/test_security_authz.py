"""Who may do what (OWASP API1, API3, API5): every protected operation, as every kind of caller.

The table OPERATIONS lists each operation once, with the status the contract promises to
each caller. A world of accounts (one per role, plus Victor, whose things others reach for,
and Ghost, a deactivated user) is built through the API for every operation. Each call
checks the status, that a refused request changed no row, and that the response shows no
one else's email (unless the row allows admins to see it), no password hash, and, to anyone
below editor, none of Victor's unpublished words.

Posts are named in a row's path as {my_draft}, {my_post} (published), {victims_draft},
{victims_post} or {victims_scheduled}, with `_slug` for the slug instead of the id. Before
the walk each caller gets a fresh copy of each named post, written through the API (the
anonymous caller's "my" posts are Victor's), so an editor's delete leaves the admin's copy.
Victor also keeps a draft and a scheduled post in every world, for the lists to hide.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, Account, bearer
from tests.support.databases import table_rows
from tests.support.posts import new_post, publish
from tests.support.problems import assert_problem
from tests.support.tokens import forge

ROLES = ("contributor", "author", "editor", "admin")
CALLERS = ("anonymous", *ROLES)
TABLES = ("users", "revoked_tokens", "posts", "tags", "post_tags", "content_version")
HASH_PATTERN = re.compile(r"\$(argon2(id|i|d)|2[abxy]?)\$")
NEW_PASSWORD = "a brand new passphrase"
SECRET = "unannounced"  # in the body and tags of every unpublished post of Victor's
POST_NAME = re.compile(r"(my|victims)_(draft|post|scheduled)(_slug)?")
LATER = datetime(2099, 1, 1, tzinfo=UTC)
FUTURE = "2099-01-01T00:00:00Z"


def everyone(status: int, *, anonymous: int = 401) -> dict[str, int]:
    """Every role gets `status`; the anonymous caller gets `anonymous`."""
    return {"anonymous": anonymous, **dict.fromkeys(ROLES, status)}


def admins_only(status: int = 200, *, others: int = 403) -> dict[str, int]:
    """Admins get `status`, other roles `others`, the anonymous caller 401."""
    return {**everyone(others), "admin": status}


def by_caller(anonymous: int, contributor: int, author: int, editor: int, admin: int) -> dict:
    """Each caller's status, spelled out from anonymous up to admin."""
    return dict(zip(CALLERS, (anonymous, contributor, author, editor, admin), strict=True))


# Posts, as blogapi/posts/access.py rules: an unpublished post of someone else's is 404
# below editor (it is not there for them), a visible one they may not change is 403.
PUBLIC = everyone(200, anonymous=200)
HIDDEN = by_caller(404, 404, 404, 200, 200)
MINE_TO_EDIT = everyone(200)
MINE_TO_PUBLISH = by_caller(401, 403, 200, 200, 200)  # contributors never publish
OTHERS_HIDDEN = by_caller(401, 404, 404, 200, 200)
OTHERS_VISIBLE = by_caller(401, 403, 403, 200, 200)
EDIT = {"title": "Edited"}


@dataclass(frozen=True)
class Operation:
    """One request and the status each caller must get."""

    name: str
    method: str
    path: str  # under /api/v1; {me}, {victim}, {ghost} are filled in per caller
    expect: dict[str, int]
    body: dict[str, Any] | None = None  # string values are filled in like the path
    token: str = "access"  # which of the caller's tokens to send: access or refresh
    emails_for: frozenset[str] = frozenset()  # callers who may see other users' emails


OPERATIONS = [
    Operation("health", "GET", "/health", everyone(200, anonymous=200)),
    Operation("my account", "GET", "/auth/me", everyone(200)),
    Operation("edit my account", "PATCH", "/auth/me", everyone(200), {"display_name": "Me"}),
    Operation(
        "change my password",
        "PUT",
        "/auth/password",
        everyone(200),
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    ),
    Operation("refresh", "POST", "/auth/refresh", everyone(200), token="refresh"),
    Operation("log out", "POST", "/auth/logout", everyone(204), {}),
    Operation("log out everywhere", "POST", "/auth/logout", everyone(204), {"all": True}),
    Operation(
        "log out another user's refresh token",
        "POST",
        "/auth/logout",
        everyone(422),
        {"refresh_token": "{victim_refresh_token}"},
    ),
    Operation("list users", "GET", "/users", admins_only(), emails_for=frozenset({"admin"})),
    Operation(
        "list admins",
        "GET",
        "/users?role=admin&per_page=100",
        admins_only(),
        emails_for=frozenset({"admin"}),
    ),
    Operation(
        "another user's profile",
        "GET",
        "/users/{victim}",
        everyone(200, anonymous=200),
        emails_for=frozenset({"admin"}),
    ),
    Operation(
        "a deactivated user's profile",
        "GET",
        "/users/{ghost}",
        {**everyone(404, anonymous=404), "admin": 200},
        emails_for=frozenset({"admin"}),
    ),
    Operation(
        "promote another user",
        "PATCH",
        "/users/{victim}",
        admins_only(),
        {"role": "editor"},
        emails_for=frozenset({"admin"}),
    ),
    Operation(
        "deactivate another user",
        "PATCH",
        "/users/{victim}",
        admins_only(),
        {"active": False},
        emails_for=frozenset({"admin"}),
    ),
    Operation(
        "reactivate a deactivated user",
        "PATCH",
        "/users/{ghost}",
        admins_only(),
        {"active": True},
        emails_for=frozenset({"admin"}),
    ),
    Operation("promote myself to admin", "PATCH", "/users/{me}", admins_only(), {"role": "admin"}),
    Operation("list posts", "GET", "/posts", PUBLIC),
    Operation("list every post I may see", "GET", "/posts?status=all&per_page=100", PUBLIC),
    Operation("list drafts", "GET", "/posts?status=draft", PUBLIC),
    Operation("list scheduled posts", "GET", "/posts?status=scheduled", PUBLIC),
    Operation("list another user's posts", "GET", "/posts?author={victim}&status=all", PUBLIC),
    Operation("search for unpublished words", "GET", f"/posts?q={SECRET}&status=all", PUBLIC),
    Operation("list posts by a draft's tag", "GET", f"/posts?tag={SECRET}&status=all", PUBLIC),
    Operation("list tags", "GET", "/tags", PUBLIC),
    Operation("read my draft", "GET", "/posts/{my_draft}", by_caller(404, 200, 200, 200, 200)),
    Operation("read my published post", "GET", "/posts/{my_post}", PUBLIC),
    Operation("read another user's draft", "GET", "/posts/{victims_draft}", HIDDEN),
    Operation("read another user's draft by slug", "GET", "/posts/{victims_draft_slug}", HIDDEN),
    Operation("read another user's scheduled post", "GET", "/posts/{victims_scheduled}", HIDDEN),
    Operation("read another user's published post", "GET", "/posts/{victims_post}", PUBLIC),
    Operation(
        "read a post that does not exist", "GET", "/posts/999999", everyone(404, anonymous=404)
    ),
    Operation(
        "write a draft", "POST", "/posts", everyone(201), {"title": "Mine", "body": "Words."}
    ),
    Operation("edit my draft", "PATCH", "/posts/{my_draft}", MINE_TO_EDIT, EDIT),
    Operation("edit my draft by slug", "PATCH", "/posts/{my_draft_slug}", MINE_TO_EDIT, EDIT),
    Operation("edit my published post", "PATCH", "/posts/{my_post}", MINE_TO_PUBLISH, EDIT),
    Operation("edit another user's draft", "PATCH", "/posts/{victims_draft}", OTHERS_HIDDEN, EDIT),
    Operation(
        "edit another user's draft by slug",
        "PATCH",
        "/posts/{victims_draft_slug}",
        OTHERS_HIDDEN,
        EDIT,
    ),
    Operation(
        "edit another user's scheduled post",
        "PATCH",
        "/posts/{victims_scheduled}",
        OTHERS_HIDDEN,
        EDIT,
    ),
    Operation(
        "edit another user's published post", "PATCH", "/posts/{victims_post}", OTHERS_VISIBLE, EDIT
    ),
    Operation("edit a post that does not exist", "PATCH", "/posts/999999", everyone(404), EDIT),
    Operation("publish my draft", "POST", "/posts/{my_draft}/publish", MINE_TO_PUBLISH),
    Operation(
        "schedule my draft",
        "POST",
        "/posts/{my_draft}/publish",
        MINE_TO_PUBLISH,
        {"publish_at": FUTURE},
    ),
    Operation(
        "publish my published post again", "POST", "/posts/{my_post}/publish", MINE_TO_PUBLISH
    ),
    Operation(
        "publish another user's draft", "POST", "/posts/{victims_draft}/publish", OTHERS_HIDDEN
    ),
    Operation(
        "publish another user's scheduled post now",
        "POST",
        "/posts/{victims_scheduled}/publish",
        OTHERS_HIDDEN,
    ),
    Operation(
        "backdate another user's published post",
        "POST",
        "/posts/{victims_post}/publish",
        OTHERS_VISIBLE,
        {"publish_at": "2000-01-01T00:00:00Z"},
    ),
    Operation("publish a post that does not exist", "POST", "/posts/999999/publish", everyone(404)),
    Operation("unpublish my published post", "POST", "/posts/{my_post}/unpublish", MINE_TO_PUBLISH),
    Operation("unpublish my draft", "POST", "/posts/{my_draft}/unpublish", MINE_TO_PUBLISH),
    Operation(
        "unpublish another user's published post",
        "POST",
        "/posts/{victims_post}/unpublish",
        OTHERS_VISIBLE,
    ),
    Operation(
        "unpublish another user's scheduled post",
        "POST",
        "/posts/{victims_scheduled}/unpublish",
        OTHERS_HIDDEN,
    ),
    Operation("delete my draft", "DELETE", "/posts/{my_draft}", everyone(204)),
    Operation(
        "delete my published post", "DELETE", "/posts/{my_post}", by_caller(401, 403, 204, 204, 204)
    ),
    Operation(
        "delete another user's draft",
        "DELETE",
        "/posts/{victims_draft}",
        by_caller(401, 404, 404, 204, 204),
    ),
    Operation(
        "delete another user's scheduled post",
        "DELETE",
        "/posts/{victims_scheduled}",
        by_caller(401, 404, 404, 204, 204),
    ),
    Operation(
        "delete another user's published post",
        "DELETE",
        "/posts/{victims_post}",
        by_caller(401, 403, 403, 204, 204),
    ),
    Operation("delete a post that does not exist", "DELETE", "/posts/999999", everyone(404)),
]


@dataclass
class World:
    """Accounts for every role, Victor (the victim) and Ghost (deactivated), all via the API."""

    app: Flask
    client: FlaskClient
    accounts: dict[str, Account]
    victim: Account
    ghost: Account
    extra: dict[str, str] = field(default_factory=dict)
    posts: dict[str, dict[str, str]] = field(default_factory=dict)  # caller -> {name: ident}

    @property
    def everyone(self) -> list[Account]:
        """Every account in the world."""
        return [*self.accounts.values(), self.victim, self.ghost]

    def placeholders(self, caller: str) -> dict[str, str]:
        """What {me}, {victim}, {ghost}, {my_draft} and friends stand for when `caller` calls."""
        me = self.accounts.get(caller, self.victim)
        return {
            "me": me.username,
            "victim": self.victim.username,
            "ghost": self.ghost.username,
            "victim_refresh_token": self.victim.refresh_token,
            **self.extra,
            **self.posts.get(caller, {}),
        }

    def write_post(self, owner: Account, state: str) -> dict[str, Any]:
        """A post of `owner`'s through the API: a draft, published ("post") or scheduled."""
        unpublished = owner is self.victim and state != "post"
        words = {"body": f"Victor's {SECRET} plans.", "tags": [SECRET]} if unpublished else {}
        post = new_post(self.client, owner, title=f"{owner.username}'s {state}", **words)
        if state == "draft":
            return post
        at = LATER if state == "scheduled" else None
        # The admin publishes, since contributors cannot publish their own.
        response = publish(self.client, self.accounts["admin"], post["id"], at)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def stage_posts(self, operation: Operation) -> None:
        """A fresh copy, for each caller, of every post the operation's path names."""
        names = {name for _, name, _, _ in string.Formatter().parse(operation.path) if name}
        for name in sorted(names):
            found = POST_NAME.fullmatch(name)
            if not found:
                continue
            whose, state, by_slug = found.groups()
            for caller in CALLERS:
                owner = self.victim if whose == "victims" else self.accounts.get(caller)
                post = self.write_post(owner or self.victim, state)
                self.posts.setdefault(caller, {})[name] = str(post["slug" if by_slug else "id"])


def build_world(app: Flask, client: FlaskClient, make_account: Callable[..., Account]) -> World:
    """Register and log in everyone; the admin deactivates Ghost; Victor keeps two secrets."""
    accounts = {role: make_account(role) for role in ROLES}
    victim = make_account("author", username="victor")
    ghost = make_account("author", username="ghost")
    response = client.patch(
        "/api/v1/users/ghost", json={"active": False}, headers=accounts["admin"].headers
    )
    assert response.status_code == 200
    world = World(app, client, accounts, victim, ghost)
    world.write_post(victim, "draft")
    world.write_post(victim, "scheduled")
    return world


def fill(value: Any, names: dict[str, str]) -> Any:
    """A body or path with its {placeholders} filled in."""
    if isinstance(value, str):
        return value.format_map(names)
    if isinstance(value, dict):
        return {key: fill(item, names) for key, item in value.items()}
    return value


def call(world: World, operation: Operation, caller: str, token: str | None = None) -> Any:
    """Send the operation as `caller` (no Authorization header when anonymous)."""
    names = world.placeholders(caller)
    headers = {}
    if caller != "anonymous":
        account = world.accounts[caller]
        if token is None:
            token = account.refresh_token if operation.token == "refresh" else account.access_token
        headers = bearer(token)
    return world.client.open(
        "/api/v1" + fill(operation.path, names),
        method=operation.method,
        json=fill(operation.body, names),
        headers=headers,
    )


def strings_in(data: Any) -> list[str]:
    """Every key and string value anywhere in a JSON document."""
    if isinstance(data, dict):
        return [*data, *(s for value in data.values() for s in strings_in(value))]
    if isinstance(data, list):
        return [s for item in data for s in strings_in(item)]
    return [data] if isinstance(data, str) else []


def assert_nothing_leaks(world: World, caller: str, operation: Operation, response: Any) -> None:
    """No password hash; no other user's email unless the row allows; below editor, no secret."""
    text = response.get_data(as_text=True)
    assert not HASH_PATTERN.search(text), text
    if response.data:
        assert not any("password" in s.lower() for s in strings_in(orjson.loads(response.data)))
    if caller not in ("editor", "admin"):
        assert SECRET not in text, f"{caller} saw Victor's unpublished post: {text[:300]}"
    if caller in operation.emails_for:
        return
    own = world.accounts[caller].email if caller in world.accounts else None
    for account in world.everyone:
        if account.email != own:
            assert account.email not in text, f"{caller} saw {account.email}"


@pytest.fixture
def world(app: Flask, client: FlaskClient, make_account: Callable[..., Account]) -> World:
    """A fresh world for each operation, so its revocations and role changes stay there."""
    return build_world(app, client, make_account)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.name for op in OPERATIONS])
def test_each_caller_gets_what_the_contract_promises(world: World, operation: Operation):
    """The walk: status as promised, refused requests change nothing, nothing leaks.

    Callers go from anonymous up to admin, each acting on their own things or refused, so
    one world serves them all; every mismatch is reported, not just the first.
    """
    world.stage_posts(operation)
    wrong = []
    for caller in CALLERS:
        before = table_rows(world.app, *TABLES)
        response = call(world, operation, caller)
        if response.status_code != operation.expect[caller]:
            wrong.append(f"{caller}: {response.status_code}, not {operation.expect[caller]}")
            continue
        if response.status_code >= 400:
            assert_problem(response)
            assert table_rows(world.app, *TABLES) == before, (
                f"{caller} was refused, yet rows changed"
            )
        assert_nothing_leaks(world, caller, operation, response)
    assert not wrong, f"{operation.name}: " + "; ".join(wrong)


def route(operation: Operation) -> tuple[str, str]:
    """The method and the path with its placeholders and ids blurred: which view answers."""
    return operation.method, re.sub(r"\{\w+\}|\d+", "*", operation.path.split("?")[0])


def first_per_route(operations: list[Operation]) -> list[Operation]:
    """The first row for each view: the token is judged before the view reads path or body."""
    chosen: dict[tuple[str, str], Operation] = {}
    for operation in operations:
        chosen.setdefault(route(operation), operation)
    return list(chosen.values())


ONE_TOKEN_KIND = first_per_route([op for op in OPERATIONS if op.expect["anonymous"] == 401])


@pytest.mark.parametrize("operation", ONE_TOKEN_KIND, ids=[op.name for op in ONE_TOKEN_KIND])
def test_the_other_kind_of_token_opens_nothing(world: World, operation: Operation):
    """A refresh token where an access token belongs (and the reverse) is a 401, for any role."""
    world.stage_posts(operation)
    for role in ROLES:
        account = world.accounts[role]
        wrong = account.access_token if operation.token == "refresh" else account.refresh_token
        before = table_rows(world.app, *TABLES)
        response = call(world, operation, role, token=wrong)
        assert_problem(response, 401)
        assert table_rows(world.app, *TABLES) == before


def test_a_demoted_admin_loses_admin_powers_with_the_same_token(client, make_account):
    """Roles are read from the database on every request, not from the token."""
    boss = make_account("admin")
    deputy = make_account("admin")
    assert client.get("/api/v1/users", headers=deputy.headers).status_code == 200
    demote = {"role": "author"}
    response = client.patch(f"/api/v1/users/{deputy.username}", json=demote, headers=boss.headers)
    assert response.status_code == 200
    assert_problem(client.get("/api/v1/users", headers=deputy.headers), 403)


def test_a_role_claim_in_the_token_grants_nothing(app, client, make_account):
    """Even a validly signed token claiming role admin does not make an author an admin."""
    author = make_account("author")
    token = forge(app, author.access_token, role="admin")
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    assert_problem(client.get("/api/v1/users", headers=bearer(token)), 403)


def test_a_refreshed_token_cannot_change_the_password(client, make_account):
    """Password change needs a fresh token from a real login, not one from /auth/refresh."""
    alice = make_account("author")
    refreshed = client.post("/api/v1/auth/refresh", headers=alice.refresh_headers).get_json()
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = client.put(
        "/api/v1/auth/password", json=change, headers=bearer(refreshed["access_token"])
    )
    assert_problem(response, 401)


def test_another_users_refresh_token_survives_a_logout_that_names_it(world: World):
    """Mallory cannot log Victor out by sending his refresh token with her logout."""
    mallory = world.accounts["author"]
    body = {"refresh_token": world.victim.refresh_token}
    response = world.client.post("/api/v1/auth/logout", json=body, headers=mallory.headers)
    assert_problem(response, 422)
    refreshed = world.client.post("/api/v1/auth/refresh", headers=world.victim.refresh_headers)
    assert refreshed.status_code == 200


MASS_ASSIGNMENT = {
    "role": "admin",
    "active": False,
    "id": 1,
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "token_version": 0,
    "password_hash": "$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA",
    "email_key": "admin@example.com",
    "username_key": "admin",
}


@pytest.mark.parametrize("field_name", MASS_ASSIGNMENT)
def test_registration_cannot_set_privileged_fields(app, client, field_name: str):
    """Mallory registers with role admin (or active, id, dates...): 422, and no account is made."""
    body = {"username": "mallory", "email": "mallory@example.com", "password": PASSWORD}
    body[field_name] = MASS_ASSIGNMENT[field_name]
    before = table_rows(app, *TABLES)
    response = client.post("/api/v1/auth/register", json=body)
    assert field_name in assert_problem(response, 422)["errors"]
    assert table_rows(app, *TABLES) == before


@pytest.mark.parametrize("field_name", [*MASS_ASSIGNMENT, "username", "password"])
def test_editing_my_account_cannot_set_privileged_fields(app, client, make_account, field_name):
    """PATCH /auth/me with role admin alongside a harmless change: 422, nothing changes."""
    mallory = make_account("contributor")
    body = {"display_name": "Innocent", field_name: MASS_ASSIGNMENT.get(field_name, "x")}
    before = table_rows(app, *TABLES)
    response = client.patch("/api/v1/auth/me", json=body, headers=mallory.headers)
    assert field_name in assert_problem(response, 422)["errors"]
    assert table_rows(app, *TABLES) == before


@pytest.mark.parametrize(
    "field_name", [f for f in MASS_ASSIGNMENT if f not in ("role", "active")] + ["email"]
)
def test_admins_change_only_role_and_active(app, client, make_account, field_name: str):
    """Even an admin cannot set another user's id, dates, hash or email through the API."""
    admin = make_account("admin")
    victim = make_account("author")
    body = {"role": "editor", field_name: MASS_ASSIGNMENT.get(field_name, "x@example.com")}
    before = table_rows(app, *TABLES)
    response = client.patch(f"/api/v1/users/{victim.username}", json=body, headers=admin.headers)
    assert field_name in assert_problem(response, 422)["errors"]
    assert table_rows(app, *TABLES) == before


POST_MASS_ASSIGNMENT = {
    "id": 1,
    "author": {"username": "victor"},
    "author_id": 1,
    "status": "published",
    "created_at": "2000-01-01T00:00:00Z",
    "updated_at": "2000-01-01T00:00:00Z",
    "published_at": "2000-01-01T00:00:00Z",
    "version": 0,
    "body_html": "<script>alert(1)</script>",
}


@pytest.mark.parametrize("field_name", POST_MASS_ASSIGNMENT)
def test_no_posts_write_can_set_privileged_fields(world: World, field_name: str):
    """`author_id`, status, dates… on any posts write: 422 naming it, even for editors."""
    contributor, author, editor = (world.accounts[role] for role in ROLES[:3])
    own_draft = world.write_post(author, "draft")
    victors_post = world.write_post(world.victim, "post")
    attempts = [
        (contributor, "POST", "/posts", {"title": "Mine", "body": "Words."}),
        (author, "PATCH", f"/posts/{own_draft['id']}", EDIT),
        (editor, "PATCH", f"/posts/{victors_post['id']}", EDIT),
        (author, "POST", f"/posts/{own_draft['id']}/publish", {}),
        (editor, "POST", f"/posts/{victors_post['id']}/unpublish", {}),
    ]
    for account, method, path, body in attempts:
        body = {**body, field_name: POST_MASS_ASSIGNMENT[field_name]}
        before = table_rows(world.app, *TABLES)
        response = world.client.open(
            f"/api/v1{path}", method=method, json=body, headers=account.headers
        )
        assert field_name in assert_problem(response, 422)["errors"], (method, path)
        assert table_rows(world.app, *TABLES) == before, f"{method} {path} stored something"
