"""Micropub's photos and media endpoint through the test client: our own media becomes the
feature image, other URLs stay as Markdown images with their alt text, uploads are bounded and
checked as the media API's are, and their errors come in Micropub's body."""

from __future__ import annotations

import io

import pytest

from tests.support.databases import sent_statements
from tests.support.media import gradient_jpeg, media_count
from tests.support.micropub import (
    MICROPUB,
    bearer,
    create,
    micropub_error,
    personal_token,
    source,
)

MEDIA = "/micropub/media"


@pytest.fixture
def writer(client, make_account):
    """An author, and a token of theirs with every Micropub scope."""
    account = make_account("author")
    return account, bearer(personal_token(client, account)[0])


def jpeg(size: tuple[int, int] = (64, 48)) -> io.BytesIO:
    """A small JPEG as the test client uploads files."""
    return io.BytesIO(gradient_jpeg(size))


def test_own_media_becomes_the_feature_image(client, writer):
    account, headers = writer
    uploaded = client.post(MEDIA, data={"file": (jpeg(), "a.jpg")}, headers=headers)
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    photo = uploaded.headers["Location"]
    url = create(
        client,
        headers,
        content=["With our photo"],
        photo=[{"value": photo, "alt": "Ours"}, "https://example.com/b.jpg"],
    )
    post = client.get(f"/api/v1/posts/{url.rsplit('/', 1)[1]}", headers=account.headers).get_json()
    assert post["feature_image"]["url"] == photo
    assert post["body"] == "With our photo\n\n![](<https://example.com/b.jpg>)"
    assert source(client, headers, url)["photo"] == [photo, "https://example.com/b.jpg"]


def test_alt_text_comes_back_as_written_whatever_its_punctuation(client, writer):
    account, headers = writer
    alt = r"A [bracketed] *starred* _under_ \back\slashed `ticked` <tagged> & co!"
    photo = {"value": "https://example.com/c.jpg?size=large&v=2", "alt": alt}
    url = create(client, headers, content=["Text"], photo=[photo])
    assert source(client, headers, url)["photo"] == [photo]
    post = client.get(f"/api/v1/posts/{url.rsplit('/', 1)[1]}", headers=account.headers).get_json()
    assert (
        'alt="A [bracketed] *starred* _under_ \\back\\slashed `ticked` &lt;tagged&gt; &amp; co!"'
        in (post["body_html"])
    )


def test_uploaded_photos_are_checked_as_the_media_api_checks_them(app, client, writer):
    _account, headers = writer
    not_an_image = {"h": "entry", "content": "x", "photo": (io.BytesIO(b"<svg/>"), "x.svg")}
    cut = gradient_jpeg((400, 300))[:300]  # a truncated image
    micropub_error(
        client.post(MICROPUB, data=not_an_image, headers=headers), 415, "invalid_request"
    )
    micropub_error(
        client.post(MEDIA, data={"file": (io.BytesIO(cut), "cut.jpg")}, headers=headers),
        422,
        "invalid_request",
    )
    bad_slug = {"h": "entry", "content": "x", "mp-slug": "No Slug", "photo": (jpeg(), "a.jpg")}
    micropub_error(client.post(MICROPUB, data=bad_slug, headers=headers), 400, "invalid_request")
    assert media_count(app) == 0  # refused before the photo was stored
    many = {"h": "entry", "content": "x", "photo[]": [(jpeg(), f"{n}.jpg") for n in range(21)]}
    micropub_error(client.post(MICROPUB, data=many, headers=headers), 400, "invalid_request")
    assert media_count(app) == 0
    app.config["MEDIA_MAX_BYTES"] = 1000
    big = {"file": (jpeg((400, 300)), "big.jpg")}
    micropub_error(client.post(MEDIA, data=big, headers=headers), 413, "invalid_request")
    other_file = {"h": "entry", "content": "x", "video": (jpeg(), "a.jpg")}
    micropub_error(client.post(MICROPUB, data=other_file, headers=headers), 400, "invalid_request")
    two = {"file": [(jpeg(), "a.jpg"), (jpeg(), "b.jpg")]}
    micropub_error(client.post(MEDIA, data=two, headers=headers), 400, "invalid_request")


def test_the_media_endpoint_needs_the_media_scope(client, writer):
    account, _headers = writer
    writing_only = bearer(personal_token(client, account, ("create",))[0])
    refused = client.post(MEDIA, data={"file": (jpeg(), "a.jpg")}, headers=writing_only)
    assert micropub_error(refused, 401, "insufficient_scope")["scope"] == "media"
    token = personal_token(client, account, ("media",))[0]
    in_the_form = client.post(MEDIA, data={"file": (jpeg(), "a.jpg"), "access_token": token})
    assert in_the_form.status_code == 201, in_the_form.get_data(as_text=True)


def test_each_photo_url_is_looked_up_among_our_media_once(app, client, writer):
    _account, headers = writer
    ours = [
        client.post(MEDIA, data={"file": (jpeg(size), "a.jpg")}, headers=headers)
        for size in ((64, 48), (48, 64))
    ]
    assert [uploaded.status_code for uploaded in ours] == [201, 201]
    photos = [uploaded.headers["Location"] for uploaded in ours] + ["https://example.com/c.jpg"]
    with sent_statements(app, lambda sql: "FROM media" in sql) as sent:
        create(client, headers, content=["Three photos"], photo=photos)
    lookups = [sql for sql, _ in sent if "media.key =" in sql.replace('"', "")]
    assert len(lookups) == 2  # one per photo of ours, none for the other host's
