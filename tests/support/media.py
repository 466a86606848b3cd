"""Images to upload, an upload as a client sends it, and what the storage and database hold."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from blogapi.db.models import Media
from blogapi.extensions import db
from blogapi.media.storage import media_storage
from tests.support.accounts import Account

API = "/api/v1"


def image_bytes(
    image_format: str = "JPEG",
    size: tuple[int, int] = (640, 480),
    mode: str = "RGB",
    color: Any = (200, 30, 30),
    **save: Any,
) -> bytes:
    """A plain image of one colour, saved in `image_format` with any save options given."""
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, image_format, **save)
    return out.getvalue()


def gradient_jpeg(size: tuple[int, int] = (2048, 1536), **save: Any) -> bytes:
    """A photo-like JPEG (a gradient, so it compresses as photos do), 3 MP by default."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge("RGB", (gradient, gradient.rotate(90).resize(size), gradient))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **save)
    assert (width, height) == image.size
    return out.getvalue()


def upload(
    client: FlaskClient,
    account: Account,
    data: bytes,
    filename: str = "photo.jpg",
    alt: str | None = None,
    **extra_fields: Any,
) -> Any:
    """POST /media as a multipart form, as a browser or blog client sends it."""
    fields: dict[str, Any] = {"file": (io.BytesIO(data), filename), **extra_fields}
    if alt is not None:
        fields["alt"] = alt
    return client.post(
        f"{API}/media", headers=account.headers, data=fields, content_type="multipart/form-data"
    )


def upload_raw(
    client: FlaskClient,
    account: Account,
    data: bytes,
    filename: str | None = "photo.jpg",
    content_type: str = "image/jpeg",
) -> Any:
    """POST /media with the image as the raw body, named by Content-Disposition."""
    headers = {**account.headers, "Content-Type": content_type}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return client.post(f"{API}/media", headers=headers, data=data)


def key_of(url: str) -> str:
    """The storage key at the end of a media URL."""
    return url.rsplit("/", 1)[1]


def file_path(url: str) -> str:
    """The site path a media URL serves its file at."""
    return f"/media/{key_of(url)}"


def stored_keys(app: Flask) -> set[str]:
    """Every key in the app's media storage."""
    with app.app_context():
        return {key for key, _modified in media_storage().all_keys()}


def media_count(app: Flask) -> int:
    """How many media rows the database holds."""
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Media)) or 0
        db.session.rollback()
        return count


def opened(data: bytes) -> Image.Image:
    """The bytes decoded by Pillow (loaded)."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
