"""A writer's story with images: upload, describe, list, serve, feature on a post, delete; on a
folder and on S3 (moto's server over HTTP)."""

from __future__ import annotations

import hashlib

from tests.support.media import (
    API,
    file_path,
    gradient_jpeg,
    image_bytes,
    key_of,
    media_count,
    opened,
    stored_keys,
    upload,
    upload_raw,
)


def test_an_upload_is_stored_described_and_served_with_its_variants(app, client, author, storage):
    reply = upload(client, author, gradient_jpeg((2000, 1000)), "heron.jpg", alt="A heron")
    assert reply.status_code == 201, reply.get_json()
    media = reply.get_json()
    assert reply.headers["Location"].endswith(f"/media/{media['id']}")
    assert media["content_type"] == "image/jpeg"
    assert (media["width"], media["height"]) == (2000, 1000)
    assert media["alt"] == "A heron" and media["filename"] == "heron.jpg"
    assert media["uploaded_by"] == {"username": author.username}
    assert [(v["width"], v["height"]) for v in media["variants"]] == [
        (320, 160),
        (768, 384),
        (1536, 768),
    ]
    served = client.get(file_path(media["url"]))
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(served.data) == media["bytes"]
    assert hashlib.sha256(served.data).hexdigest() == media["sha256"]
    for variant in media["variants"]:
        image = opened(client.get(file_path(variant["url"])).data)
        assert image.size == (variant["width"], variant["height"])
    assert stored_keys(app) == {key_of(media["url"])} | {
        key_of(v["url"]) for v in media["variants"]
    }


def test_the_same_bytes_twice_are_the_same_media_but_not_across_users(
    app, client, author, make_account, storage
):
    data = image_bytes("PNG", (100, 80))
    first = upload(client, author, data, "a.png")
    again = upload(client, author, data, "b.png")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    other = upload(client, make_account("author"), data, "a.png")
    assert other.status_code == 201
    assert other.get_json()["id"] != first.get_json()["id"]
    assert media_count(app) == 2


def test_a_raw_body_upload_takes_its_name_from_content_disposition(client, author, storage):
    reply = upload_raw(client, author, image_bytes("WEBP", (50, 40)), "tiny.webp", "image/webp")
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["filename"] == "tiny.webp"
    assert reply.get_json()["content_type"] == "image/webp"
    assert reply.get_json()["variants"] == []  # narrower than every MEDIA_WIDTHS


def test_head_etag_and_ranges_work_on_served_files(client, author, storage):
    media = upload(client, author, image_bytes("PNG", (300, 200))).get_json()
    path = file_path(media["url"])
    whole = client.get(path)
    etag = whole.headers["ETag"]
    head = client.head(path)
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(media["bytes"])
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    part = client.get(path, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.data == whole.data[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{media['bytes']}"
    tail = client.get(path, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.data == whole.data[-5:]
    outside = client.get(path, headers={"Range": f"bytes={media['bytes'] + 10}-"})
    assert outside.status_code == 416


def test_anything_but_a_stored_key_is_a_404_problem(client, author, storage):
    upload(client, author, image_bytes())
    for path in (
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/../../etc/passwd",
        "/media/" + "0" * 32 + ".jpg",
        "/media/" + "0" * 32 + ".svg",
        "/media/%E2%80%AEgpj.exe",
        "/media/" + "A" * 32 + ".jpg",
        "/media/%00.jpg",
    ):
        reply = client.get(path)
        assert reply.status_code == 404, path
        assert reply.headers["Content-Type"] == "application/problem+json"


def test_alt_text_is_changed_by_its_owner_or_an_editor_only(client, author, make_account):
    media = upload(client, author, image_bytes()).get_json()
    url = f"{API}/media/{media['id']}"
    stranger = make_account("author")
    assert client.get(url, headers=stranger.headers).status_code == 404
    assert client.patch(url, headers=stranger.headers, json={"alt": "x"}).status_code == 404
    mine = client.patch(url, headers=author.headers, json={"alt": "  Red square  "})
    assert mine.status_code == 200 and mine.get_json()["alt"] == "Red square"
    editor = make_account("editor")
    assert client.patch(url, headers=editor.headers, json={"alt": "Red"}).status_code == 200
    stale = client.patch(
        url, headers={**author.headers, "If-Match": mine.headers["ETag"]}, json={"alt": "y"}
    )
    assert stale.status_code == 412
    assert client.patch(url, headers=author.headers, json={"alt": "a" * 1001}).status_code == 422
    assert client.patch(url, headers=author.headers, json={"nope": 1}).status_code == 422


def test_lists_show_own_media_to_writers_and_all_to_editors_and_search_names_and_alt(
    client, author, make_account
):
    upload(client, author, image_bytes(color=(1, 2, 3)), "Beach_Sunset.jpg")
    upload(client, author, image_bytes(color=(4, 5, 6)), "x.jpg", alt="A 100% cat")
    other = make_account("author")
    upload(client, other, image_bytes(color=(7, 8, 9)), "theirs.jpg")

    def names(account, query=""):
        reply = client.get(f"{API}/media{query}", headers=account.headers)
        assert reply.status_code == 200
        return [item["filename"] for item in reply.get_json()["items"]]

    assert names(author) == ["x.jpg", "Beach_Sunset.jpg"]
    assert names(make_account("editor")) == ["theirs.jpg", "x.jpg", "Beach_Sunset.jpg"]
    assert names(author, "?q=sunset") == ["Beach_Sunset.jpg"]
    assert names(author, "?q=100%25") == ["x.jpg"]
    assert names(author, "?q=_") == ["Beach_Sunset.jpg"]
    assert names(author, "?q=%25") == ["x.jpg"]
    page = client.get(f"{API}/media?per_page=1&page=2", headers=author.headers)
    assert page.get_json()["meta"]["total"] == 2
    assert 'rel="prev"' in page.headers["Link"]


def test_contributors_upload_and_readers_without_a_token_cannot(client, make_account):
    contributor = make_account("contributor")
    assert upload(client, contributor, image_bytes()).status_code == 201
    anonymous = client.post(f"{API}/media", data={}, content_type="multipart/form-data")
    assert anonymous.status_code == 401
    assert client.get(f"{API}/media").status_code == 401


def test_a_deleted_media_takes_its_files_with_it(app, client, author, storage):
    media = upload(client, author, gradient_jpeg((800, 600))).get_json()
    assert stored_keys(app)
    assert client.delete(f"{API}/media/{media['id']}", headers=author.headers).status_code == 204
    assert stored_keys(app) == set()
    assert media_count(app) == 0
    assert client.get(file_path(media["url"])).status_code == 404
    assert client.get(f"{API}/media/{media['id']}", headers=author.headers).status_code == 404


def test_media_public_url_points_urls_at_the_cdn(client, author, app):
    app.config["MEDIA_PUBLIC_URL"] = "https://cdn.example.com/blog"
    media = upload(client, author, gradient_jpeg((800, 600))).get_json()
    assert media["url"].startswith("https://cdn.example.com/blog/")
    assert all(v["url"].startswith("https://cdn.example.com/blog/") for v in media["variants"])
