"""Media over real HTTP under gunicorn in production mode: two instances sharing one S3 bucket
serve and delete each other's uploads, and one instance on a folder answers uploads, reads and
refusals the way a client meets them (problem+json, never HTML or a reset connection).

A body over MEDIA_MAX_BYTES is refused by werkzeug from its Content-Length before it is read
(or, chunked, as soon as the limit is passed); gunicorn's sync worker then closes gracefully
(half-close, then it reads what is left for up to 2 s and 64 KiB), and urllib3 ignores the
EPIPE/ECONNRESET of its unfinished send and reads the answer: the client gets the 413.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from devtools.live import OPEN_REGISTRATION, LiveServer, fresh_database_url, production_env
from tests.support.live import production_server, sign_up_over_http, two_instances
from tests.support.media import gradient_jpeg, image_bytes, key_of, opened
from tests.support.s3 import new_bucket, s3_endpoint, s3_env

pytestmark = pytest.mark.slow
TIMEOUT = 60
PROBLEM = "application/problem+json"
IMMUTABLE = "public, max-age=31536000, immutable"


def post_form(
    api: str, headers: dict[str, str], data: bytes, name: str = "photo.jpg", alt: str = ""
) -> requests.Response:
    """POST /media as multipart/form-data, as requests builds it."""
    return requests.post(
        f"{api}/media",
        headers=headers,
        files={"file": (name, data, "image/jpeg")},
        data={"alt": alt},
        timeout=TIMEOUT,
    )


def file_url(server: LiveServer, media_url: str) -> str:
    """The file of a media URL, on this server."""
    return f"{server.url}/media/{key_of(media_url)}"


def assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    """A problem+json answer with this status."""
    assert (response.status_code, response.headers["Content-Type"]) == (status, PROBLEM), (
        response.status_code,
        response.text[:300],
    )
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer, str]]:
    """Instances A and B (production mode) on one database, storing media in one S3 bucket."""
    workdir = tmp_path_factory.mktemp("media-pair")
    bucket = new_bucket()
    env = production_env(
        fresh_database_url(workdir),
        RATELIMIT_ENABLED="false",
        **OPEN_REGISTRATION,
        **s3_env(bucket),
    )
    with two_instances(env, workdir) as (a, b):
        yield a, b, bucket


def bucket_keys(bucket: str) -> set[str]:
    """Every object in the bucket."""
    client = boto3.client("s3", endpoint_url=s3_endpoint(), region_name="us-east-1")
    listed = client.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def test_an_upload_through_one_instance_is_served_and_deleted_through_the_other(pair):
    a, b, bucket = pair
    writer = sign_up_over_http(a.api, "ada")
    data = gradient_jpeg((1600, 1200))
    created = post_form(a.api, writer, data, "heron.jpg", alt="A heron")
    assert created.status_code == 201, created.text
    media = created.json()
    keys = {key_of(media["url"])} | {key_of(v["url"]) for v in media["variants"]}
    assert len(keys) == 4 and keys <= bucket_keys(bucket)

    served = requests.get(file_url(b, media["url"]), timeout=TIMEOUT)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Cache-Control"] == IMMUTABLE
    assert hashlib.sha256(served.content).hexdigest() == media["sha256"]
    assert served.content == requests.get(file_url(a, media["url"]), timeout=TIMEOUT).content
    part = requests.get(file_url(b, media["url"]), headers={"Range": "bytes=100-1123"}, timeout=60)
    assert part.status_code == 206
    assert part.content == served.content[100:1124]
    assert part.headers["Content-Range"] == f"bytes 100-1123/{media['bytes']}"
    for variant in media["variants"]:
        image = opened(requests.get(file_url(b, variant["url"]), timeout=TIMEOUT).content)
        assert image.size == (variant["width"], variant["height"])

    item = f"/media/{media['id']}"
    read = requests.get(f"{b.api}{item}", headers=writer, timeout=TIMEOUT)
    assert read.status_code == 200
    assert {k: v for k, v in read.json().items() if k not in ("url", "variants")} == {
        k: v for k, v in media.items() if k not in ("url", "variants")
    }
    listed = requests.get(f"{b.api}/media", headers=writer, timeout=TIMEOUT).json()
    assert [m["id"] for m in listed["items"]] == [media["id"]]
    again = post_form(b.api, writer, data, "heron-again.jpg")
    assert (again.status_code, again.json()["id"]) == (200, media["id"])

    assert requests.delete(f"{b.api}{item}", headers=writer, timeout=TIMEOUT).status_code == 204
    assert_problem(requests.get(f"{a.api}{item}", headers=writer, timeout=TIMEOUT), 404)
    assert_problem(requests.get(file_url(a, media["url"]), timeout=TIMEOUT), 404)
    assert not keys & bucket_keys(bucket)
    assert requests.get(f"{a.api}/media", headers=writer, timeout=TIMEOUT).json()["items"] == []


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One instance in production mode (TESTING off) storing media in a folder."""
    with production_server(tmp_path_factory.mktemp("media-live")) as live:
        yield live


@pytest.fixture(scope="module")
def writer(server: LiveServer) -> dict[str, str]:
    """A signed-up author on the folder instance."""
    return sign_up_over_http(server.api, "grace")


def stored_files(server: LiveServer) -> list[Path]:
    """Every file under the instance's MEDIA_ROOT."""
    return sorted(p for p in Path(server.env["MEDIA_ROOT"]).rglob("*") if p.is_file())


def test_a_form_and_a_raw_upload_are_served_with_head_ranges_and_etags(server, writer):
    form = post_form(server.api, writer, image_bytes("PNG", (900, 600)), "plan.png", alt="Plan")
    assert form.status_code == 201, form.text
    assert form.headers["Location"].endswith(f"/api/v1/media/{form.json()['id']}")
    raw = requests.post(
        f"{server.api}/media",
        headers={
            **writer,
            "Content-Type": "image/webp",
            "Content-Disposition": "attachment; filename*=UTF-8''h%C3%A9ron.webp",
        },
        data=image_bytes("WEBP", (500, 400)),
        timeout=TIMEOUT,
    )
    assert raw.status_code == 201, raw.text
    assert (raw.json()["filename"], raw.json()["content_type"]) == ("héron.webp", "image/webp")

    media = form.json()
    url = file_url(server, media["url"])
    whole = requests.get(url, timeout=TIMEOUT)
    assert (whole.status_code, whole.headers["Content-Type"]) == (200, "image/png")
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    assert whole.headers["Content-Security-Policy"] == "default-src 'none'"
    assert len(whole.content) == media["bytes"]
    head = requests.head(url, timeout=TIMEOUT)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Length"] == str(media["bytes"])
    assert head.headers["ETag"] == whole.headers["ETag"]
    cached = requests.get(url, headers={"If-None-Match": whole.headers["ETag"]}, timeout=TIMEOUT)
    assert (cached.status_code, cached.content) == (304, b"")
    tail = requests.get(url, headers={"Range": "bytes=-16"}, timeout=TIMEOUT)
    assert (tail.status_code, tail.content) == (206, whole.content[-16:])
    outside = requests.get(url, headers={"Range": f"bytes={media['bytes']}-"}, timeout=TIMEOUT)
    assert outside.status_code == 416
    assert_problem(requests.get(f"{server.url}/media/{'0' * 32}.png", timeout=TIMEOUT), 404)


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The data in pieces: requests sends a generator with Transfer-Encoding: chunked."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_a_20_mb_upload_is_a_413_problem_whether_it_has_a_length_or_is_chunked(server, writer):
    before = stored_files(server)
    body = os.urandom(20 * 1024 * 1024)
    boundary = "blogapi-live-boundary"
    form = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + body
        + f"\r\n--{boundary}--\r\n".encode()
    )
    multipart = {**writer, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    raw = {**writer, "Content-Type": "image/jpeg"}
    for headers, data in ((multipart, form), (raw, body)):
        for sent in (data, chunks(data)):
            reply = requests.post(f"{server.api}/media", headers=headers, data=sent, timeout=60)
            assert "MEDIA_MAX_BYTES" in assert_problem(reply, 413)["detail"]
    assert stored_files(server) == before


@pytest.mark.parametrize(
    ("data", "name", "status"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "a.svg", 415),
        (b"<!doctype html><script>alert(1)</script>", "photo.jpg", 415),
        (image_bytes("PNG", (64, 64)) + b"PK\x03\x04" + b"\x00" * 40, "zip.png", 415),
        (gradient_jpeg((400, 300))[:-2000], "cut.jpg", 422),
        (b"", "empty.jpg", 422),
    ],
    ids=["svg", "html-as-jpg", "png-zip-polyglot", "truncated", "empty"],
)
def test_a_bad_image_is_a_problem_and_leaves_no_file(server, writer, data, name, status):
    before = stored_files(server)
    assert_problem(post_form(server.api, writer, data, name), status)
    raw = requests.post(
        f"{server.api}/media",
        headers={**writer, "Content-Type": "application/octet-stream"},
        data=data,
        timeout=TIMEOUT,
    )
    assert_problem(raw, status)
    assert stored_files(server) == before


def test_uploads_without_a_token_or_as_another_kind_of_body_are_problems(server, writer):
    assert_problem(post_form(server.api, {}, image_bytes()), 401)
    text = {**writer, "Content-Type": "text/plain"}
    assert_problem(requests.post(f"{server.api}/media", headers=text, data=b"hi", timeout=60), 415)
    none = requests.post(
        f"{server.api}/media", headers=writer, data={"alt": "no file"}, timeout=TIMEOUT
    )
    assert_problem(none, 415)  # a urlencoded form is not an upload
    empty_form = requests.post(
        f"{server.api}/media",
        headers=writer,
        files={"alt": (None, "no file")},
        timeout=TIMEOUT,
    )
    assert "file" in assert_problem(empty_form, 422)["errors"]
