"""An h-entry's properties as a post: which field each property fills, checked as the posts
API checks its own fields.

content (text: the Markdown body; {"html": …}: html_body) -> body, followed by photos that
are not ours as Markdown images; name -> title (absent: a note, titled by its first words);
summary -> summary; category -> tags; mp-slug -> slug; our own media's URL, first of photo
-> feature image; published and post-status -> published now, at that time, or a draft.
Other properties are ignored, as Micropub asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from blogapi.micropub.errors import invalid_request
from blogapi.micropub.html_body import html_to_body
from blogapi.micropub.photos import Photo, check_url, own_media, with_photos
from blogapi.posts.markdown import render_markdown
from blogapi.posts.schemas import TITLE_MAX, PostWriteSchema
from blogapi.posts.search.document import plain_text
from blogapi.web.errors import flatten_messages
from blogapi.web.fields import UTCDateTimeField

NOTE_TITLE_MAX = 60
PHOTOS_MAX = 20  # photos of one post, by URL and uploaded together
STATUSES = ("published", "draft")
# Our fields by the property that fills them, for error messages.
PROPERTY_OF = {"title": "name", "body": "content", "tags": "category", "slug": "mp-slug"}
write_schema = PostWriteSchema()
published_field = UTCDateTimeField()


@dataclass
class Entry:
    """A post as its properties describe it: its fields (PostWriteSchema's), photos not yet
    placed, and whether and when it is published."""

    text: str = ""
    title: str | None = None
    summary: str | None = None
    tags: list[str] | None = None
    slug: str | None = None
    photos: list[Photo] = field(default_factory=list)
    feature_image_id: int | None = None
    status: str = "published"
    published: datetime | None = None


def note_title(body: str) -> str:
    """A note's title: the first words of its text, cut at a word, or "Note" without any."""
    words = plain_text(render_markdown(body)).split()
    title = ""
    for word in words:
        if len(title) + len(word) + 1 > NOTE_TITLE_MAX:
            return title + "…"
        title = f"{title} {word}" if title else word
    return title[:TITLE_MAX] or "Note"


def one_text(properties: dict[str, list[Any]], name: str) -> str | None:
    """The single text value of a property, if it has one."""
    values = properties.get(name)
    if values is None:
        return None
    if len(values) != 1 or not isinstance(values[0], str):
        raise invalid_request(f"`{name}` takes one text value.")
    return values[0]


def content_text(properties: dict[str, list[Any]]) -> str:
    """The body `content` gives: text as Markdown, {"html": …} sanitized into the body."""
    values = properties.get("content")
    if values is None:
        return ""
    if len(values) != 1:
        raise invalid_request("`content` takes one value.")
    value = values[0]
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("html"), str):
        return html_to_body(value["html"])
    if isinstance(value, dict) and isinstance(value.get("value"), str):
        text: str = value["value"]
        return text
    raise invalid_request('`content` is text or {"html": "…"}.')


def photos_of(properties: dict[str, list[Any]]) -> list[Photo]:
    """The photos given by URL (a string, or {"value": url, "alt": text}), each our own
    media's (with its id) or checked as a URL that may be kept."""
    photos = []
    if len(properties.get("photo", [])) > PHOTOS_MAX:
        raise invalid_request(f"Send at most {PHOTOS_MAX} photos.")
    for value in properties.get("photo", []):
        if isinstance(value, str):
            photos.append(Photo(value))
        elif (
            isinstance(value, dict)
            and isinstance(value.get("value"), str)
            and isinstance(value.get("alt", ""), str)
        ):
            photos.append(Photo(value["value"], value.get("alt", "")))
        else:
            raise invalid_request('A `photo` is a URL or {"value": URL, "alt": text}.')
    return [known_or_checked(photo) for photo in photos]


def known_or_checked(photo: Photo) -> Photo:
    """The photo with its media id when it is our own media's file, else checked (400 for a
    URL that may not be kept)."""
    media = own_media(photo.url)
    if media is None:
        check_url(photo.url)
        return photo
    return replace(photo, media_id=media.id)


def published_of(properties: dict[str, list[Any]]) -> datetime | None:
    """`published` read strictly: ISO 8601 with a time zone."""
    raw = one_text(properties, "published")
    if raw is None:
        return None
    try:
        when: datetime = published_field.deserialize(raw)
    except ValidationError as exc:
        messages = " ".join(flatten_messages(exc.messages).get("_schema", []))
        raise invalid_request(f"`published` is not an ISO 8601 time: {messages}") from None
    return when


def read_entry(properties: dict[str, list[Any]]) -> Entry:
    """The post the properties describe (photos by URL known or checked, not yet placed)."""
    categories = properties.get("category")
    if categories is not None and not all(isinstance(c, str) for c in categories):
        raise invalid_request("Each `category` is text.")
    status = one_text(properties, "post-status") or "published"
    if status not in STATUSES:
        raise invalid_request("`post-status` is published or draft.")
    photos = photos_of(properties)
    return Entry(
        text=content_text(properties),
        title=one_text(properties, "name"),
        summary=one_text(properties, "summary"),
        tags=categories,
        slug=one_text(properties, "mp-slug"),
        photos=photos,
        status=status,
        published=published_of(properties),
    )


def place_photos(entry: Entry) -> None:
    """Our first own photo becomes the feature image; the others go into the body."""
    others = []
    for photo in entry.photos:
        if photo.media_id is not None and entry.feature_image_id is None:
            entry.feature_image_id = photo.media_id
        else:
            others.append(photo)
    entry.photos = others


def post_data(entry: Entry) -> dict[str, Any]:
    """The entry as the posts API's fields, loaded through its schema (400 naming the
    properties that fail)."""
    body = with_photos(entry.text, entry.photos)
    if not body.strip():  # a post always has a body: its summary or title, or for a photo
        body = entry.summary or entry.title or ("Photo" if entry.feature_image_id else "")
    if not body.strip():
        raise invalid_request("An entry needs content, a name, a summary or a photo.")
    data: dict[str, Any] = {"title": entry.title or note_title(body), "body": body}
    optional = {"summary": entry.summary, "tags": entry.tags, "slug": entry.slug}
    data.update({name: value for name, value in optional.items() if value is not None})
    if entry.feature_image_id is not None:
        data["feature_image_id"] = entry.feature_image_id
    try:
        loaded: dict[str, Any] = write_schema.load(data)
    except ValidationError as exc:
        messages = flatten_messages(exc.messages)
        named = "; ".join(
            f"{PROPERTY_OF.get(name.split('.')[0], name)}: {' '.join(texts)}"
            for name, texts in sorted(messages.items())
        )
        raise invalid_request(f"Invalid properties: {named}") from None
    return loaded
