"""A client generated from the live document type-checks strictly, and reads the blog as typed.

openapi-python-client is how an outside developer will meet this API: each break of the
contract it found (an optional read demanding an AuthenticatedClient, a `meta.page` typed `int`
that arrives as null) is a mypy error in the small typed reader below, or a failure when that
reader runs against the app.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from blogapi.routes import API_PREFIX
from tests.support.prerequisites import unavailable

PACKAGE = "blogapi_client"
READER = '''
"""A typed reader of the blog that uses only a plain, anonymous Client."""

from typing import assert_type

from blogapi_client import Client
from blogapi_client.api.posts import post_item_get, post_list_get
from blogapi_client.api.users import user_item_get
from blogapi_client.models import Post, PostPage, PublicUser, PublicUserRole


def page_numbers(client: Client) -> list[int | None]:
    """The page number of the first page of one post, then of the page its cursor leads to."""
    first = post_list_get.sync(client=client, per_page=1)
    assert isinstance(first, PostPage)
    assert_type(first.meta.page, int | None)
    cursor = first.meta.next_cursor
    assert cursor is not None
    second = post_list_get.sync(client=client, per_page=1, cursor=cursor)
    assert isinstance(second, PostPage)
    return [page.meta.page for page in (first, second)]


def title_of(client: Client, ident: str) -> str:
    """A published post's title, read anonymously."""
    post = post_item_get.sync(client=client, ident=ident)
    assert isinstance(post, Post)
    return post.title


def role_of(client: Client, username: str) -> PublicUserRole:
    """A user's role, from the public profile."""
    user = user_item_get.sync(client=client, username=username)
    assert isinstance(user, PublicUser)
    assert_type(user.bio, str)  # always sent, so never Unset
    return user.role
'''


def run(*command: str, cwd: Path) -> None:
    """Run a tool; fail with its output when it fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command[:4]}:\n{result.stdout[-6000:]}{result.stderr[-3000:]}"


@pytest.fixture
def generated(client, tmp_path: Path) -> Path:
    """The client package generated from the served document, with the typed reader beside it."""
    for tool in ("openapi_python_client", "mypy"):
        if importlib.util.find_spec(tool) is None:
            unavailable(f"{tool} is not installed (pip install -e '.[dev]')")
    document = client.get(f"{API_PREFIX}/openapi.json").get_json()
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    # No post hooks: formatting the generated code with ruff proves nothing here.
    (tmp_path / "generator.yaml").write_text("post_hooks: []\n")
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\nwarn_unreachable = True\n")
    (tmp_path / "reader.py").write_text(dedent(READER).lstrip())
    generate = [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"]
    run(
        *generate,
        *("--path", "openapi.json", "--config", "generator.yaml", "--output-path", PACKAGE),
        "--fail-on-warning",
        cwd=tmp_path,
    )
    return tmp_path


@pytest.mark.slow
def test_the_generated_client_passes_mypy_strict_with_a_typed_reader(generated: Path):
    run(
        sys.executable,
        "-m",
        "mypy",
        "--cache-dir",
        ".mypy_cache",
        PACKAGE,
        "reader.py",
        cwd=generated,
    )


@pytest.fixture
def reader(generated: Path, monkeypatch):
    """The typed reader, imported with the generated package (both forgotten afterwards)."""
    monkeypatch.syspath_prepend(str(generated))
    yield importlib.import_module("reader")
    for name in [n for n in sys.modules if n == "reader" or n.split(".")[0] == PACKAGE]:
        del sys.modules[name]


@pytest.mark.slow
def test_the_typed_reader_reads_the_blog_with_a_plain_client(app, client, author, reader):
    import httpx  # a dependency of openapi-python-client, present whenever the reader is

    for n in range(2):
        post = client.post(
            f"{API_PREFIX}/posts", json={"title": f"T{n}", "body": "b"}, headers=author.headers
        ).get_json()
        client.post(f"{API_PREFIX}/posts/{post['id']}/publish", headers=author.headers)
    anonymous = reader.Client(
        base_url=f"http://localhost{API_PREFIX}",
        httpx_args={"transport": httpx.WSGITransport(app=app)},
        raise_on_unexpected_status=True,
    )
    assert reader.page_numbers(anonymous) == [1, None]
    assert reader.title_of(anonymous, post["slug"]) == "T1"
    assert reader.role_of(anonymous, author.username).value == "author"
