"""What careless and hostile clients send to POST /media, over HTTP on a folder and on S3: other
files dressed as images, polyglots, payloads and metadata that must not survive, images that lie
about their size, broken and rare images, bodies too large, names that try to be paths, and the
wrong people. Every refusal is a problem and leaves no file and no row behind."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image, ImageFile
from sqlalchemy.exc import OperationalError

from blogapi.db.models import Media, User
from blogapi.extensions import db
from blogapi.media.keys import KEY
from blogapi.media.storage import FilesystemStorage, StorageError, media_storage
from tests.support.bad_images import (
    FRAME_COLOURS,
    GPS_IFD,
    HTML_PAGE,
    ORIENTATION,
    PDF,
    PHP_PAYLOAD,
    RED,
    SVG_WITH_SCRIPT,
    WHITE,
    animation,
    cmyk_jpeg,
    frame_durations,
    gif_claiming,
    gif_js_polyglot,
    gif_of_tiny_frames,
    gif_repeating_a_long_frame,
    gif_with_script_after_trailer,
    jpeg_markers,
    multi_picture_jpeg,
    palette_png_with_transparency,
    photo,
    png_claiming,
    png_zip_polyglot,
    rotated_jpeg,
    saved,
    sixteen_bit_png,
    with_jpeg_segment,
    with_location,
)
from tests.support.media import (
    API,
    file_path,
    gradient_jpeg,
    image_bytes,
    media_count,
    opened,
    stored_keys,
    upload,
    upload_raw,
)
from tests.support.posts import write_post
from tests.support.prerequisites import unavailable
from tests.support.problems import assert_problem

# Every test runs on both storages: a folder, and a bucket on moto's S3 server over HTTP.
pytestmark = pytest.mark.usefixtures("storage")

COM = 0xFE
MB = 1024 * 1024


def refused(app, reply, status: int) -> dict[str, Any]:
    """Assert a problem with this status that left no file and no row; return its body."""
    body = assert_problem(reply, status)
    assert stored_keys(app) == set()
    assert media_count(app) == 0
    return body


def near(colour: Any, expected: Any, tolerance: int) -> bool:
    """Whether two colours (or rows of tones) differ by at most `tolerance` everywhere."""
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def stored_files(client, media: dict[str, Any]) -> list[bytes]:
    """The stored image and each of its variants, as served."""
    urls = [media["url"], *(variant["url"] for variant in media["variants"])]
    replies = [client.get(file_path(url)) for url in urls]
    assert all(reply.status_code == 200 for reply in replies)
    return [reply.data for reply in replies]


def accepted(client, account, data: bytes, filename: str = "photo.jpg") -> dict[str, Any]:
    """Upload as a multipart form; assert 201; the new media."""
    reply = upload(client, account, data, filename)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def send_chunked(client, account, data: bytes) -> Any:
    """POST /media with a raw body of no declared length, as a chunked one reaches the app."""
    return client.post(
        f"{API}/media",
        headers={
            **account.headers,
            "Content-Type": "image/jpeg",
            "Content-Disposition": 'attachment; filename="big.jpg"',
        },
        input_stream=io.BytesIO(data),
        environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
    )


@pytest.fixture(params=["multipart", "raw"])
def send(request, client):
    """Upload a file as a multipart form, or as the raw body (declared as an image/jpeg)."""
    sender = upload if request.param == "multipart" else upload_raw

    def send(account, data: bytes, filename: str = "photo.jpg") -> Any:
        return sender(client, account, data, filename)

    return send


# --- Other files dressed as images, and polyglots: 415 --------------------------------------

NOT_IMAGES = {
    "SVG with a script": (SVG_WITH_SCRIPT, "logo.svg"),
    "HTML named .jpg": (HTML_PAGE, "photo.jpg"),
    "PDF": (PDF, "scan.pdf"),
    "PNG with a ZIP appended": (png_zip_polyglot(), "image.png"),
    "GIF89a/* that is also JavaScript": (gif_js_polyglot(), "image.gif"),
    "GIF with a script after its trailer": (gif_with_script_after_trailer(), "image.gif"),
    "multi-picture JPEG with a ZIP appended": (multi_picture_jpeg() + png_zip_polyglot(), "a.jpg"),
}


@pytest.mark.parametrize("data, filename", NOT_IMAGES.values(), ids=NOT_IMAGES.keys())
def test_files_that_are_not_just_an_image_are_415(app, author, send, data, filename):
    body = refused(app, send(author, data, filename), 415)
    assert "errors" not in body


@pytest.mark.parametrize(
    "polyglot, image_end",
    [(png_zip_polyglot(), b"IEND\xaeB`\x82"), (gif_js_polyglot(), b"\x00;")],
    ids=["PNG+ZIP", "GIF+JS"],
)
def test_the_image_inside_a_polyglot_is_accepted_alone(client, author, polyglot, image_end):
    # The polyglots' images are valid: what is refused above is what follows them.
    image = polyglot[: polyglot.index(image_end) + len(image_end)]
    media = accepted(client, author, image)
    assert media["content_type"] in ("image/png", "image/gif")


def test_a_php_payload_in_a_jpeg_comment_is_gone_from_every_stored_file(client, author):
    data = with_jpeg_segment(gradient_jpeg((800, 600)), COM, PHP_PAYLOAD)
    assert COM in jpeg_markers(data) and PHP_PAYLOAD in data
    media = accepted(client, author, data)
    files = stored_files(client, media)
    assert len(files) == 3  # the image and variants at 320 and 768
    for stored in files:
        assert PHP_PAYLOAD not in stored and b"<?php" not in stored
        assert COM not in jpeg_markers(stored)


# --- Metadata and orientation ---------------------------------------------------------------

LOCATION_GROUPS = ("EXIF", "XMP", "IPTC", "Photoshop", "ICC_Profile", "MakerNotes")


def exiftool_tags(data: bytes, tmp_path: Path) -> dict[str, Any]:
    """What exiftool reads in a file: `group:tag` -> value."""
    if shutil.which("exiftool") is None:
        unavailable("exiftool is not installed (Debian: libimage-exiftool-perl)")
    path = tmp_path / "upload"  # exiftool reads the type from the bytes
    path.write_bytes(data)
    output = subprocess.run(
        ["exiftool", "-j", "-G", "-a", "-u", str(path)], capture_output=True, check=True
    ).stdout
    tags: dict[str, Any] = json.loads(output)[0]
    return tags


def location_tags(tags: dict[str, Any]) -> list[str]:
    """The tags that give away a place, a camera or a note: GPS anywhere, any EXIF, XMP or
    comment."""
    return sorted(
        name
        for name in tags
        if "GPS" in name or name.split(":")[0] in LOCATION_GROUPS or name.endswith(":Comment")
    )


METADATA = {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "icc_profile", "photoshop"}


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_gps_exif_xmp_and_comments_are_stripped(client, author, image_format):
    data = with_location(image_format)
    original = opened(data)
    assert original.getexif().get_ifd(GPS_IFD) and {"exif", "xmp"} <= original.info.keys()
    media = accepted(client, author, data)
    assert len(media["variants"]) == 2
    for stored in stored_files(client, media):
        image = opened(stored)
        assert dict(image.getexif()) == {}
        assert not METADATA & image.info.keys(), image.info.keys()
        if image_format == "JPEG":
            assert [name for name, _data in image.applist] == ["APP0"]  # JFIF, nothing else


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_exiftool_finds_no_location_in_what_is_stored(client, author, tmp_path, image_format):
    data = with_location(image_format)
    found = location_tags(exiftool_tags(data, tmp_path))
    assert {"EXIF:GPSLatitude", "XMP:GPSLatitude"} <= set(found), found
    media = accepted(client, author, data)
    for stored in stored_files(client, media):
        assert location_tags(exiftool_tags(stored, tmp_path)) == []


def corner_colours(image: Image.Image) -> dict[str, Any]:
    """The colour a few pixels inside each corner."""
    image = image.convert("RGB")
    left, top, right, bottom = 5, 5, image.width - 6, image.height - 6
    return {
        "top-left": image.getpixel((left, top)),
        "top-right": image.getpixel((right, top)),
        "bottom-left": image.getpixel((left, bottom)),
        "bottom-right": image.getpixel((right, bottom)),
    }


@pytest.mark.parametrize(
    "orientation, size, red_corner",
    [(6, (400, 800), "top-right"), (3, (800, 400), "bottom-right"), (8, (400, 800), "bottom-left")],
)
def test_a_photo_is_stored_upright_by_its_exif_orientation(
    client, author, orientation, size, red_corner
):
    # Stored 800x400 with a red block at the top-left of the file; shown turned by the tag.
    media = accepted(client, author, rotated_jpeg(orientation))
    assert (media["width"], media["height"]) == size
    for stored in stored_files(client, media):
        image = opened(stored)
        assert ORIENTATION not in image.getexif()  # no viewer turns it a second time
        assert image.size[0] / image.size[1] == size[0] / size[1]
        for corner, colour in corner_colours(image).items():
            expected = RED if corner == red_corner else WHITE
            assert near(colour, expected, 40), (corner, colour)


# --- Images that lie about their size, and limits: 422 and 413 ------------------------------


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """Every image Pillow decodes from now on (its format), counted."""
    seen: list[str] = []
    load = ImageFile.ImageFile.load

    def counted(image: ImageFile.ImageFile) -> Any:
        seen.append(str(image.format))
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return seen


BOMBS = {
    "PNG 1x1 claiming 100,000x100,000": png_claiming(100_000, 100_000),
    "GIF 1x1 claiming 65,535x65,535": gif_claiming(65_535, 65_535),
    "PNG 1x1 claiming 8,000x8,000": png_claiming(8_000, 8_000),  # under Pillow's own limit
    "GIF 1x1 claiming 8,000x8,000": gif_claiming(8_000, 8_000),
}


@pytest.mark.parametrize("data", BOMBS.values(), ids=BOMBS.keys())
def test_an_image_claiming_too_many_pixels_is_422_before_it_is_decoded(
    app, client, author, decodes, data
):
    body = refused(app, upload(client, author, data, "tiny.png"), 422)
    assert list(body["errors"]) == ["file"] and "pixels" in body["detail"]
    assert decodes == []
    accepted(client, author, image_bytes("PNG", (10, 10)))
    assert decodes  # the count sees a real upload's decode


def test_an_image_over_media_max_pixels_is_422_and_one_at_it_is_accepted(app, client, author):
    app.config["MEDIA_MAX_PIXELS"] = 10_000
    body = refused(app, upload(client, author, image_bytes("PNG", (200, 51))), 422)
    assert "10,200 pixels" in body["detail"] and "10,000" in body["detail"]
    assert accepted(client, author, image_bytes("PNG", (200, 50)))["width"] == 200


def test_an_animation_over_media_max_pixels_in_all_frames_is_422(app, client, author):
    app.config["MEDIA_MAX_PIXELS"] = 50_000
    six_frames = animation("GIF", [100] * 6, (100, 100))  # 60,000 pixels in all
    body = refused(app, upload(client, author, six_frames, "anim.gif"), 422)
    assert "6 frames" in body["detail"]
    five_frames = animation("GIF", [100] * 5, (100, 100))  # 50,000
    assert accepted(client, author, five_frames, "anim.gif")["content_type"] == "image/gif"


def test_thousands_of_one_pixel_frames_are_422_before_they_are_decoded(
    app, client, author, decodes
):
    # Each frame counts as at least 64x64: 10,000 of them are over the default 40,000,000.
    data = gif_of_tiny_frames(10_000)
    body = refused(app, upload(client, author, data, "frames.gif"), 422)
    assert "10,000 frames of 1x1" in body["detail"]
    assert decodes == []
    assert accepted(client, author, gif_of_tiny_frames(9_000), "frames.gif")["width"] == 1


@pytest.mark.parametrize("how", ["multipart", "raw", "raw chunked"])
def test_a_20_mb_body_is_413(app, client, author, how):
    data = b"\xff\xd8\xff" + bytes(20 * MB)
    if how == "multipart":
        reply = upload(client, author, data)
    elif how == "raw":
        reply = upload_raw(client, author, data)
    else:
        reply = send_chunked(client, author, data)
    body = refused(app, reply, 413)
    assert "MEDIA_MAX_BYTES" in body["detail"]


def test_a_file_of_media_max_bytes_is_read_whole_and_one_byte_more_is_413(app, client, author):
    data = gradient_jpeg((400, 300))
    app.config["MEDIA_MAX_BYTES"] = len(data)
    assert send_chunked(client, author, data).status_code == 201
    one_more = data + b"\x00"  # zero padding after the image's end is accepted otherwise
    for reply in (
        send_chunked(client, author, one_more),
        upload_raw(client, author, one_more),
        upload(client, author, one_more),
    ):
        assert_problem(reply, 413)
    assert media_count(app) == 1


def test_uploads_are_bounded_by_media_max_bytes_and_json_still_by_max_content_length(
    app, client, author
):
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    noise = Image.frombytes("RGB", (200, 200), random.Random(15).randbytes(200 * 200 * 3))
    data = saved(noise, "PNG")
    assert 100_000 < len(data) < app.config["MEDIA_MAX_BYTES"]
    assert upload(client, author, data, "noise.png").status_code == 201
    assert upload_raw(client, author, saved(noise.rotate(90), "PNG")).status_code == 201
    assert_problem(write_post(client, author, body="x" * 100_000), 413)


# --- Broken images: 422; rare but valid ones: accepted --------------------------------------


def cut_in_half(data: bytes) -> bytes:
    """The first half of a file, as an interrupted transfer leaves it."""
    return data[: len(data) // 2]


BROKEN = {
    "JPEG cut in half": cut_in_half(gradient_jpeg((800, 600))),
    "PNG cut in half": cut_in_half(saved(photo(), "PNG")),
    "GIF cut in half": cut_in_half(saved(photo().convert("P"), "GIF")),
    "WebP cut in half": cut_in_half(saved(photo(), "WEBP")),
    "zero bytes": b"",
}


@pytest.mark.parametrize("data", BROKEN.values(), ids=BROKEN.keys())
def test_a_truncated_or_empty_file_is_422(app, author, send, data):
    body = refused(app, send(author, data), 422)
    assert list(body["errors"]) == ["file"]


def test_a_cmyk_jpeg_is_stored_as_an_rgb_jpeg(client, author):
    media = accepted(client, author, cmyk_jpeg())
    assert media["content_type"] == "image/jpeg"
    for stored in stored_files(client, media):
        image = opened(stored)
        assert (image.format, image.mode) == ("JPEG", "RGB")
        assert near(image.getpixel((10, 10)), RED, 10)


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped(client, author):
    media = accepted(client, author, sixteen_bit_png(512, 16), "scan.png")
    for stored in stored_files(client, media):  # and the variant 320 wide
        image = opened(stored)
        assert image.mode == "L"
        # Left, a quarter, the middle, three quarters, right: 0..65535 became 0..255.
        right = image.width - 1
        tones = [image.getpixel((right * i // 4, 8)) for i in range(5)]
        assert near(tones, (0, 64, 128, 191, 255), 3), tones


def test_a_palette_png_keeps_its_transparency(client, author):
    media = accepted(client, author, palette_png_with_transparency((400, 200)), "logo.png")
    files = stored_files(client, media)
    assert len(files) == 2  # and a variant 320 wide
    for stored in files:
        image = opened(stored)
        assert (image.format, image.mode) == ("PNG", "RGBA")
        assert image.getpixel((2, 2))[3] == 0  # the transparent left half
        assert image.getpixel((image.width - 3, 2)) == (*RED, 255)


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_an_animation_keeps_its_frames_and_their_timing(client, author, image_format):
    media = accepted(client, author, animation(image_format, [100, 200, 300]), "anim.bin")
    assert media["content_type"] == f"image/{image_format.lower()}"
    files = stored_files(client, media)
    assert len(files) == 2  # 400 wide: the image, and a variant 320 wide
    for stored in files:
        assert frame_durations(stored) == [100, 200, 300]
        image = Image.open(io.BytesIO(stored))
        for index, colour in enumerate(FRAME_COLOURS):
            image.seek(index)
            middle = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
            assert near(middle, colour, 16), (index, middle)


def test_a_multi_picture_jpeg_is_stored_as_its_first_picture(client, author):
    media = accepted(client, author, multi_picture_jpeg())
    assert media["content_type"] == "image/jpeg" and len(media["variants"]) == 2
    for stored in stored_files(client, media):
        image = opened(stored)
        assert (image.format, getattr(image, "n_frames", 1)) == ("JPEG", 1)
        assert near(corner_colours(image)["top-left"], RED, 40)


def test_a_gif_repeating_a_frame_past_gifs_longest_delay_is_422(app, client, author):
    # Writing it again merges the repeated frame, whose summed delay GIF cannot hold.
    body = refused(app, upload(client, author, gif_repeating_a_long_frame(), "slow.gif"), 422)
    assert list(body["errors"]) == ["file"]


# --- What the client says the file is does not matter: the bytes decide ---------------------


@pytest.mark.parametrize("how", ["multipart part type", "raw Content-Type"])
def test_a_jpeg_declared_as_a_png_is_stored_as_the_jpeg_it_is(client, author, how):
    data = gradient_jpeg((400, 300))
    if how == "raw Content-Type":
        reply = upload_raw(client, author, data, "photo.png", "image/png")
    else:
        form = {"file": (io.BytesIO(data), "photo.png", "image/png")}
        reply = client.post(f"{API}/media", headers=author.headers, data=form)
    assert reply.status_code == 201, reply.get_json()
    media = reply.get_json()
    assert media["content_type"] == "image/jpeg" and media["url"].endswith(".jpg")
    assert client.get(file_path(media["url"])).headers["Content-Type"] == "image/jpeg"
    assert opened(stored_files(client, media)[0]).format == "JPEG"


# --- File names are display text only ---------------------------------------------------------

NAMES = {
    "traversal": ("../../etc/passwd", "passwd"),
    "Windows traversal": ("..\\..\\Windows\\win.ini", "win.ini"),
    "NUL": ("shell.php\x00.jpg", "shell.php.jpg"),
    "1,000 characters": ("a" * 996 + ".jpg", "a" * 251 + ".jpg"),
    "RTL override": ("invoice\u202egpj.exe", "invoicegpj.exe"),
    "a hidden file": (".htaccess", "htaccess"),
}


def every_stored_name(app) -> list[str]:
    """Every file (or object) the storage holds, not only those named like keys."""
    storage = media_storage(app)
    if isinstance(storage, FilesystemStorage):
        return sorted(
            p.relative_to(storage.root).as_posix() for p in storage.root.rglob("*") if p.is_file()
        )
    listing = storage.client.list_objects_v2(Bucket=storage.bucket)  # type: ignore[attr-defined]
    return sorted(item["Key"] for item in listing.get("Contents", []))


def named_upload(client, account, how: str, name: str) -> Any:
    """Upload an image under `name`: a multipart file name, or Content-Disposition's
    `filename` (quoted) or `filename*` (RFC 8187, UTF-8 percent-encoded)."""
    data = image_bytes("PNG", (30, 20), color=(len(name) % 256, 0, 0))
    if how == "multipart":
        return upload(client, account, data, name)
    if how == "filename*":
        disposition = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    else:
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        disposition = f'attachment; filename="{escaped}"'
    headers = {**account.headers, "Content-Type": "image/png", "Content-Disposition": disposition}
    return client.post(f"{API}/media", headers=headers, data=data)


def carries(how: str, name: str) -> bool:
    """Whether a way of sending a name can carry it as it is: a quoted header value only
    Latin-1 without NUL; the test client's multipart names no backslash (werkzeug reads one
    as an escape, RFC 9110's quoted-pair, as it should)."""
    if how == "filename":
        return name.isascii() and "\x00" not in name
    return how == "filename*" or "\\" not in name


@pytest.mark.parametrize(
    "how, sent, shown",
    [
        pytest.param(how, sent, shown, id=f"{label}, {how}")
        for label, (sent, shown) in NAMES.items()
        for how in ("multipart", "filename", "filename*")
        if carries(how, sent)
    ],
)
def test_a_file_name_is_display_text_and_never_a_path(app, client, author, how, sent, shown):
    reply = named_upload(client, author, how, sent)
    assert reply.status_code == 201, reply.get_json()
    media = reply.get_json()
    assert media["filename"] == shown
    assert len(media["filename"]) <= 255
    assert all(unicodedata.category(ch)[0] != "C" for ch in media["filename"])
    # Only random keys reach the storage, whatever the name.
    for name in every_stored_name(app):
        assert KEY.fullmatch(name.rsplit("/", 1)[-1]), name
        assert re.fullmatch(r"([0-9a-f]{2}/)?[0-9a-f]{32}\.png", name), name


# --- Requests that are not one upload, and the wrong people ---------------------------------


def test_a_form_without_a_file_is_422_naming_file(app, client, author):
    reply = client.post(
        f"{API}/media",
        headers=author.headers,
        data={"alt": "A cat"},
        content_type="multipart/form-data",
    )
    assert refused(app, reply, 422)["errors"] == {"file": ["Missing data for required field."]}


def test_two_files_at_once_are_422(app, client, author):
    files = [(io.BytesIO(image_bytes(color=c)), f"{c[0]}.jpg") for c in ((1, 2, 3), (4, 5, 6))]
    reply = client.post(f"{API}/media", headers=author.headers, data={"file": files})
    assert list(refused(app, reply, 422)["errors"]) == ["file"]


def test_a_json_body_is_415(app, client, author):
    reply = client.post(
        f"{API}/media", headers=author.headers, json={"url": "https://x.test/a.jpg"}
    )
    refused(app, reply, 415)


def test_no_token_or_a_deactivated_users_token_is_401(app, client, author):
    refused(app, client.post(f"{API}/media", data=image_bytes(), content_type="image/jpeg"), 401)
    with app.app_context():
        db.session.scalar(db.select(User).where(User.username == author.username)).active = False
        db.session.commit()
    refused(app, upload(client, author, image_bytes()), 401)
    refused(app, upload_raw(client, author, image_bytes()), 401)


def test_a_contributor_may_feature_only_their_own_media(client, make_account):
    contributor, other = make_account("contributor"), make_account("author")
    mine = accepted(client, contributor, image_bytes(color=(1, 1, 1)))["id"]
    theirs = accepted(client, other, image_bytes(color=(2, 2, 2)))["id"]
    refusal = assert_problem(write_post(client, contributor, feature_image_id=theirs), 422)
    assert list(refusal["errors"]) == ["feature_image_id"]
    post = write_post(client, contributor, feature_image_id=mine)
    assert post.status_code == 201 and post.get_json()["feature_image"]["id"] == mine
    changed = client.patch(
        f"{API}/posts/{post.get_json()['id']}",
        headers=contributor.headers,
        json={"feature_image_id": theirs},
    )
    assert list(assert_problem(changed, 422)["errors"]) == ["feature_image_id"]
    for role in ("author", "editor"):
        reply = write_post(client, make_account(role), feature_image_id=theirs)
        assert reply.status_code == 201 and reply.get_json()["feature_image"]["id"] == theirs


def test_an_unknown_media_id_on_a_post_is_422(client, author):
    media = accepted(client, author, image_bytes())
    refusal = assert_problem(write_post(client, author, feature_image_id=media["id"] + 1000), 422)
    assert list(refusal["errors"]) == ["feature_image_id"]


# --- Failures half way leave nothing ----------------------------------------------------------


def test_a_failed_commit_removes_the_stored_files(app, client, author, monkeypatch):
    commit = db.session.commit
    failures: list[int] = []

    def commit_failing_once() -> None:
        if not failures and any(isinstance(row, Media) for row in db.session.new):
            failures.append(1)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))
        commit()

    monkeypatch.setattr(db.session, "commit", commit_failing_once)
    data = gradient_jpeg((800, 600))
    refused(app, upload(client, author, data), 503)
    assert failures == [1]
    media = accepted(client, author, data)  # the same bytes: nothing of the failed try remains
    assert len(stored_keys(app)) == 1 + len(media["variants"])


def test_a_storage_failing_half_way_leaves_no_file_and_no_row(app, client, author, monkeypatch):
    storage = media_storage(app)
    put = storage.put
    puts: list[str] = []

    def put_failing_second(key: str, data: bytes) -> None:
        puts.append(key)
        if len(puts) == 2:
            raise StorageError("the disk is full")
        put(key, data)

    monkeypatch.setattr(storage, "put", put_failing_second)
    body = refused(app, upload(client, author, gradient_jpeg((800, 600))), 503)
    assert len(puts) == 2 and "storage" in body["detail"]
