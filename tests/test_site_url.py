"""Absolute URLs start with SITE_URL, never with a Host header a client chose; TRUSTED_HOSTS
turns any other Host away with a 400 problem."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blogapi.web.public_cache import EXTENSION_KEY
from tests.support.accounts import sign_up
from tests.support.apps import dispose, make_app
from tests.support.posts import API, new_post, published_post
from tests.support.problems import assert_problem

SITE = "https://blog.example"
EVIL = {"Host": "evil.example"}


def link_targets(response: object) -> list[str]:
    """The URLs of a response's Link header."""
    return re.findall(r"<([^>]*)>", response.headers["Link"])  # type: ignore[attr-defined]


@pytest.fixture
def blog() -> Iterator[Callable[..., tuple[Flask, FlaskClient]]]:
    """Make an app with the given settings and two published posts (so a page of one has a
    next page); returns it with a client."""
    apps: list[Flask] = []

    def make(**settings: Any) -> tuple[Flask, FlaskClient]:
        app = make_app(**settings)
        apps.append(app)
        client = app.test_client()
        writer = sign_up(client, app, "writer")
        for title in ("One", "Two"):
            published_post(client, writer, title=title)
        return app, client

    yield make
    for app in apps:
        dispose(app)


def test_page_links_are_built_on_site_url_whatever_host_the_client_sends(blog):
    _, site = blog(SITE_URL=SITE)
    for headers in (EVIL, {}, {"Host": "blog.example:8443"}):
        for query in ("per_page=1", "per_page=1&page=2", "per_page=1&sort=-published_at"):
            targets = link_targets(site.get(f"{API}/posts?{query}", headers=headers))
            assert targets and all(t.startswith(f"{SITE}/api/v1/posts?") for t in targets)


def test_a_site_url_with_a_path_leads_every_link(blog):
    _, site = blog(SITE_URL="https://example.com/blog")
    targets = link_targets(site.get(f"{API}/posts?per_page=1", headers=EVIL))
    assert targets and all(t.startswith("https://example.com/blog/api/v1/posts?") for t in targets)


def test_without_site_url_development_links_to_the_address_it_was_asked_at(blog):
    _, site = blog()
    targets = link_targets(site.get(f"{API}/posts?per_page=1", headers={"Host": "dev:5000"}))
    assert targets and all(t.startswith("http://dev:5000/api/v1/posts?") for t in targets)


def test_a_poisoned_host_cannot_plant_a_link_in_the_public_cache(blog):
    app, site = blog(SITE_URL=SITE)
    cache = app.extensions[EXTENSION_KEY]
    poisoned = site.get(f"{API}/posts?per_page=1", headers=EVIL)
    honest = site.get(f"{API}/posts?per_page=1")
    # One entry: the honest reader was served what the poisoned request left in the cache.
    assert len(cache.entries) == 1
    assert link_targets(honest) == link_targets(poisoned)
    assert not any("evil" in target for target in link_targets(honest))


def test_without_site_url_a_forged_host_is_cached_apart_from_everyone_elses(blog):
    app, site = blog(TRUSTED_PROXIES=1)
    cache = app.extensions[EXTENSION_KEY]
    site.get(f"{API}/posts?per_page=1", headers=EVIL)
    site.get(f"{API}/posts?per_page=1", headers={"X-Forwarded-Host": "evil.example"})
    honest = site.get(f"{API}/posts?per_page=1")
    assert all(t.startswith("http://localhost/") for t in link_targets(honest))
    assert len(cache.entries) == 2  # the forged hosts share one entry, the honest one has its own


def test_locations_are_paths_that_name_no_host(blog):
    app, site = blog(SITE_URL=SITE)
    writer = sign_up(site, app, "locator")
    created = site.post(
        f"{API}/posts", json={"title": "Here", "body": "b"}, headers=writer.headers | EVIL
    )
    assert created.headers["Location"] == f"{API}/posts/{created.get_json()['id']}"
    account = {"username": "newcomer", "email": "n@example.com", "password": "a long passphrase"}
    registered = site.post(f"{API}/auth/register", json=account, headers=EVIL)
    assert registered.headers["Location"] == f"{API}/users/newcomer"


@pytest.mark.parametrize("testing", [True, False])
def test_a_host_outside_trusted_hosts_is_a_400_problem_before_any_view(testing):
    trusted = ["blog.example", "localhost"]  # localhost: the test client's own Host
    app = make_app(testing=testing, SITE_URL=SITE, TRUSTED_HOSTS=trusted, TRUSTED_PROXIES=1)
    client = app.test_client()
    writer = sign_up(client, app, "trusted")
    post = new_post(client, writer, title="Kept")
    for method, path in [
        ("GET", "/posts"),
        ("GET", "/nothing"),
        ("DELETE", "/auth/login"),
        ("POST", "/posts"),
        ("PATCH", f"/posts/{post['id']}"),
    ]:
        for forged in (EVIL, {"X-Forwarded-Host": "evil.example"}):
            refused = client.open(
                f"{API}{path}", method=method, json={"title": "x"}, headers=writer.headers | forged
            )
            assert "evil.example" in assert_problem(refused, 400)["detail"]
    assert client.get(f"{API}/posts/{post['id']}", headers=writer.headers).json["title"] == "Kept"
    assert client.get(f"{API}/posts", headers={"Host": "blog.example:8443"}).status_code == 200
    dispose(app)
