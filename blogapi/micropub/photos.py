"""Photos by URL: our own media becomes the feature image; any other address is never fetched,
but kept in the body as a Markdown image (so q=source gives it back), unless it points inside
a network (private, loopback, link-local), which is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from blogapi.db.models import Media
from blogapi.extensions import db
from blogapi.media.keys import is_key
from blogapi.media.service import media_url
from blogapi.micropub.errors import invalid_request
from blogapi.security.outbound import is_internal_host
from blogapi.web.urls import external_url

URL_MAX = 2000
PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
IMAGE = re.compile(r"!\[((?:[^\\\]]|\\.)*)\]\(<([^<>\s\\]+)>\)")
ESCAPED = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Photo:
    """A photo by URL, with its alt text, and the id of our own media it is, once known."""

    url: str
    alt: str = ""
    media_id: int | None = None


def check_url(url: str) -> None:
    """400 unless `url` is an absolute http(s) URL to a public host, fit for Markdown."""
    parts = urlsplit(url)
    if (
        len(url) > URL_MAX
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or re.search(r"[\s<>\\]", url)
    ):
        raise invalid_request(f"A photo's URL must be an absolute http(s) URL: {url[:100]!r}.")
    if is_internal_host(parts.hostname):
        raise invalid_request(f"A photo's URL may not point inside a network: {url[:100]!r}.")


def own_media(url: str) -> Media | None:
    """The media whose file `url` is (on this site, or under MEDIA_PUBLIC_URL), if any."""
    prefixes = [external_url("/media/")]
    public = current_app.config.get("MEDIA_PUBLIC_URL", "")
    if public:
        prefixes.append(public + "/")
    for prefix in prefixes:
        if url.startswith(prefix) and is_key(url[len(prefix) :]):
            found = db.session.scalars(select(Media).where(Media.key == url[len(prefix) :]))
            return found.first()
    return None


def photo_url(media: Media) -> str:
    """Where a media's file is read."""
    return media_url(media.key)


def markdown_image(photo: Photo) -> str:
    """A photo as a Markdown image paragraph, its alt text escaped so it stays as written."""
    alt = PUNCTUATION.sub(r"\\\1", " ".join(photo.alt.split()))
    return f"![{alt}](<{photo.url}>)"


def split_photos(body: str) -> tuple[str, list[Photo]]:
    """A body less the photo paragraphs at its end (as markdown_image writes them), and those
    photos in order."""
    paragraphs = body.split("\n\n")
    photos: list[Photo] = []
    while paragraphs and (found := IMAGE.fullmatch(paragraphs[-1])):
        photos.insert(0, Photo(found.group(2), ESCAPED.sub(r"\1", found.group(1))))
        paragraphs.pop()
    return "\n\n".join(paragraphs), photos


def with_photos(body: str, photos: list[Photo]) -> str:
    """A body with photo paragraphs after it."""
    return "\n\n".join(
        [body, *map(markdown_image, photos)] if body else map(markdown_image, photos)
    )
