"""A client generated from the live document type-checks strictly, and reads the blog as typed.

openapi-python-client is how an outside developer will meet this API: each break of the
contract it found (an optional read demanding an AuthenticatedClient, a `meta.page` typed `int`
that arrives as null) is a mypy error in the small typed reader below, or a failure when that
reader runs against the app.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from blogapi.routes import API_PREFIX
from tests.support.media import gradient_jpeg, opened
from tests.support.prerequisites import unavailable

pytestmark = pytest.mark.database_agnostic
PACKAGE = "blogapi_client"
READER = '''
"""A typed reader of the blog that uses only a plain, anonymous Client."""

from io import BytesIO
from typing import assert_type

from blogapi_client import AuthenticatedClient, Client
from blogapi_client.api.media import media_file_get, media_item_get, media_list_post
from blogapi_client.api.posts import post_item_get, post_list_get
from blogapi_client.api.users import user_item_get
from blogapi_client.models import (
    Media,
    MediaListPostFilesBody,
    Post,
    PostPage,
    Problem,
    PublicUser,
    PublicUserRole,
)
from blogapi_client.types import File


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


def upload(client: AuthenticatedClient, data: bytes, name: str, alt: str) -> Media:
    """Upload an image as a multipart form."""
    file = File(payload=BytesIO(data), file_name=name, mime_type="image/jpeg")
    media = media_list_post.sync(client=client, body=MediaListPostFilesBody(file=file, alt=alt))
    assert isinstance(media, Media), media
    return media


def upload_raw(client: AuthenticatedClient, data: bytes) -> Media | Problem:
    """Upload an image as the raw body."""
    media = media_list_post.sync(client=client, body=File(payload=BytesIO(data)))
    assert isinstance(media, Media | Problem)
    return media


def alt_of(client: AuthenticatedClient, media_id: int) -> str:
    """A media item's alt text, read back."""
    media = media_item_get.sync(client=client, media_id=media_id)
    assert isinstance(media, Media)
    return media.alt


def file_bytes(site: Client, url: str) -> bytes:
    """A media file's bytes, read anonymously from a client based at the site root."""
    served = media_file_get.sync(client=site, key=url.rsplit("/", 1)[1])
    assert isinstance(served, File)
    return served.payload.read()
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
    # No post hooks: formatting the generated code with ruff proves nothing here. The generator
    # reads only JSON, text and application/octet-stream responses: files served as image/* and
    # the XML feeds and sitemap are bytes to it too (else it leaves their replies out, warning).
    overrides = ("image/*", "application/atom+xml", "application/rss+xml", "application/xml")
    (tmp_path / "generator.yaml").write_text(
        "post_hooks: []\ncontent_type_overrides:\n"
        + "".join(f"  {kind}: application/octet-stream\n" for kind in overrides)
    )
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\nwarn_unreachable = True\n")
    (tmp_path / "reader.py").write_text(dedent(READER).lstrip())
    generate = [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none"]
    run(
        *generate,
        *("--path", "openapi.json", "--config", "generator.yaml", "--output-path", PACKAGE),
        "--fail-on-warning",
        cwd=tmp_path,
    )
    import_unset(tmp_path / PACKAGE)
    return tmp_path


def import_unset(package: Path) -> None:
    """Work around openapi-python-client #1451 (open in 0.29): an operation with a required
    body in several media types (POST /media: multipart or raw) is annotated `| Unset` without
    importing Unset. Only where the name is used and not imported, so a fixed generator makes
    this a no-op."""
    for module in (package / "api").rglob("*.py"):
        code = module.read_text()
        if "| Unset" in code and not re.search(r"^from \.\.\.types import .*\bUnset\b", code, re.M):
            module.write_text("from ...types import Unset\n" + code)


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


@pytest.mark.slow
def test_the_typed_reader_uploads_and_reads_back_an_image(app, author, reader):
    import httpx

    transport = {"transport": httpx.WSGITransport(app=app)}
    writer = reader.AuthenticatedClient(
        base_url=f"http://localhost{API_PREFIX}",
        token=author.access_token,
        httpx_args=transport,
        raise_on_unexpected_status=True,
    )
    # The generated functions take the paths as written in the document, relative to the one
    # base URL: the file operation, served at the site root, needs a client based there.
    site = reader.Client(base_url="http://localhost", httpx_args=transport)
    data = gradient_jpeg((800, 600))
    media = reader.upload(writer, data, "heron.jpg", "A heron")
    assert (media.width, media.height, media.filename) == (800, 600, "heron.jpg")
    assert [variant.width for variant in media.variants] == [320, 768]
    assert reader.alt_of(writer, media.id) == "A heron"
    stored = reader.file_bytes(site, media.url)
    assert hashlib.sha256(stored).hexdigest() == media.sha256
    assert opened(reader.file_bytes(site, media.variants[0].url)).size == (320, 240)
    again = reader.upload_raw(writer, data)
    assert again.id == media.id  # the same bytes: the same media
    refused = reader.upload_raw(writer, b"<svg onload=alert(1)>")
    assert isinstance(refused, reader.Problem) and refused.status == 415
