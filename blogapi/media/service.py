"""The life of a media item: upload it (decoded, stripped, stored, then recorded), list it,
describe it, and delete it; and the rule for which media a post may show.

A file and its row live or die together: files are stored before the row is committed, and
removed again when the commit fails; a deletion commits first and removes the files after.
A crash between the two leaves at worst a file no row names, which `media prune` removes;
never a row without its file.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Iterable, Sequence

import orjson
from flask import current_app, has_request_context
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from blogapi.db.models import Media, Post, User
from blogapi.extensions import db
from blogapi.media.images import Encoded, Processed, process
from blogapi.media.keys import new_key
from blogapi.media.storage import StorageError, media_storage, storage_down
from blogapi.security.roles import at_least
from blogapi.web.cursors import MAX_ID
from blogapi.web.errors import ApiError
from blogapi.web.urls import external_url

FILENAME_MAX = 255
ALT_MAX = 1000
# Unicode categories never kept in a file name: controls, format characters (the bidi
# overrides among them), surrogates, private use, unassigned, line and paragraph separators.
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
log = logging.getLogger("blogapi.media")


def media_url(key: str) -> str:
    """Where a stored file is read: under MEDIA_PUBLIC_URL when set, else /media/<key> on this
    site (a bare path outside a request with no SITE_URL, as in the CLI)."""
    public = current_app.config.get("MEDIA_PUBLIC_URL", "")
    if public:
        return f"{public}/{key}"
    if has_request_context() or current_app.config.get("SITE_URL"):
        return external_url(f"/media/{key}")
    return f"/media/{key}"


def is_editor(user: User) -> bool:
    """Editors and admins see and change everyone's media."""
    return at_least(user.role, "editor")


def clean_filename(name: str, extension: str) -> str:
    """A name to show for the upload: its last path part, without controls, bidi overrides or
    leading dots, at most 255 characters (extension kept); never used as a path."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch) not in DROPPED_CATEGORIES)
    name = name.strip().lstrip(".").strip()
    if len(name) > FILENAME_MAX:
        stem, dot, suffix = name.rpartition(".")
        if dot and 0 < len(suffix) <= 10:
            name = stem[: FILENAME_MAX - len(suffix) - 1].rstrip() + "." + suffix
        else:
            name = name[:FILENAME_MAX].rstrip()
    return name or f"upload.{extension}"


def find_media(media_id: int) -> Media | None:
    """The media with this id, its uploader loaded."""
    if not 1 <= media_id <= MAX_ID:
        return None
    query = select(Media).options(joinedload(Media.uploader)).where(Media.id == media_id)
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def visible_media(media_id: int, user: User) -> Media:
    """The media if the caller uploaded it or is an editor; 404 otherwise."""
    media = find_media(media_id)
    if media is None or not (media.uploader_id == user.id or is_editor(user)):
        raise ApiError(404, f"No media {media_id}, or not visible to you.")
    return media


def media_page(user: User, q: str | None, page: int, per_page: int) -> tuple[list[Media], int]:
    """A page of the media the caller sees (their own; editors everyone's), newest first,
    narrowed by `q` on file name and alt text (case-insensitive, any part)."""
    filters = [] if is_editor(user) else [Media.uploader_id == user.id]
    if q:
        filters.append(
            or_(
                func.lower(Media.filename).contains(q.lower(), autoescape=True),
                func.lower(Media.alt).contains(q.lower(), autoescape=True),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(Media).where(*filters)) or 0
    query = (
        select(Media)
        .options(joinedload(Media.uploader))
        .where(*filters)
        .order_by(Media.created_at.desc(), Media.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(db.session.scalars(query)), total


def own_upload(user: User, source_sha256: str) -> Media | None:
    """The caller's earlier upload of exactly these bytes, if any."""
    query = (
        select(Media)
        .options(joinedload(Media.uploader))
        .where(Media.uploader_id == user.id, Media.source_sha256 == source_sha256)
    )
    return db.session.scalars(query).first()


def upload_media(data: bytes, filename: str, alt: str, user: User) -> tuple[Media, bool]:
    """Store an upload and record it; (media, True) when new, (the earlier one, False) when
    the caller uploaded these exact bytes before."""
    source_sha256 = hashlib.sha256(data).hexdigest()
    earlier = own_upload(user, source_sha256)
    if earlier is not None:
        return earlier, False
    config = current_app.config
    processed = process(data, max_pixels=config["MEDIA_MAX_PIXELS"], widths=config["MEDIA_WIDTHS"])
    keys = store_files(processed)
    media = Media(
        uploader=user,
        source_sha256=source_sha256,
        sha256=hashlib.sha256(processed.image.data).hexdigest(),
        key=keys[0],
        content_type=processed.content_type,
        width=processed.image.width,
        height=processed.image.height,
        bytes=len(processed.image.data),
        filename=clean_filename(filename, processed.extension),
        alt=alt,
        variants=variants_json(processed, keys[1:]),
    )
    try:
        db.session.add(media)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        remove_files(keys)
        earlier = own_upload(user, source_sha256)  # the same bytes, stored by a request racing us
        if earlier is None:
            raise
        return earlier, False
    except BaseException:
        db.session.rollback()
        remove_files(keys)
        raise
    return media, True


def variants_json(processed: Processed, keys: Iterable[str]) -> str:
    """The variants column for these files and keys."""
    return orjson.dumps(
        [
            {"width": v.width, "height": v.height, "key": key, "bytes": len(v.data)}
            for v, key in zip(processed.variants, keys, strict=True)
        ]
    ).decode()


def store_files(processed: Processed) -> list[str]:
    """Store the image and its variants under new keys (the image's first); 503 when the
    storage fails (nothing of them stays)."""
    try:
        return store_new((processed.image, *processed.variants), processed.extension)
    except StorageError as exc:
        raise storage_down(exc) from None


def store_new(files: Sequence[Encoded], extension: str) -> list[str]:
    """Store files under new keys, in order; on any failure remove what was stored and
    raise."""
    storage = media_storage()
    keys: list[str] = []
    try:
        for encoded in files:
            keys.append(new_key(extension))  # listed first: a put that fails half way is removed
            storage.put(keys[-1], encoded.data)
    except BaseException:
        remove_files(keys)
        raise
    return keys


def remove_files(keys: Iterable[str]) -> list[str]:
    """Remove stored files; those that cannot be removed stay for `media prune` (returned)."""
    storage = media_storage()
    left = []
    for key in keys:
        try:
            storage.delete(key)
        except StorageError as exc:
            log.warning("media file left for `media prune`: %s", exc)
            left.append(key)
    return left


def set_alt(media: Media, alt: str) -> Media:
    """Change the alt text, and commit."""
    media.alt = alt
    db.session.commit()
    return media


def posts_using(media_id: int) -> list[tuple[int, str]]:
    """The posts (live or in the trash) showing this media as their feature image: id, slug."""
    query = select(Post.id, Post.slug).where(Post.feature_image_id == media_id).order_by(Post.id)
    return [(post_id, slug) for post_id, slug in db.session.execute(query)]


def in_use(media_id: int, posts: list[tuple[int, str]]) -> ApiError:
    """409 naming the posts that use the media."""
    named = ", ".join(f"{post_id} ({slug})" for post_id, slug in posts)
    return ApiError(
        409,
        f"Media {media_id} is the feature image of {len(posts)} post(s): {named}. "
        "Give them another feature image (or none) first.",
        extra={"posts": [{"id": post_id, "slug": slug} for post_id, slug in posts]},
    )


def delete_media(media: Media) -> None:
    """Delete the row (409 while a post uses it), commit, then remove its files."""
    posts = posts_using(media.id)
    if posts:
        raise in_use(media.id, posts)
    keys = media.file_keys
    try:
        db.session.delete(media)
        db.session.commit()
    except IntegrityError:  # a post took it as its feature image meanwhile
        db.session.rollback()
        raise in_use(media.id, posts_using(media.id)) from None
    remove_files(keys)


def usable_feature_image(media_id: int | None, user: User) -> int | None:
    """The id a post may take as its feature image: existing media, and for a contributor their
    own; 422 otherwise."""
    if media_id is None:
        return None
    media = find_media(media_id)
    if media is None:
        raise feature_image_refused(f"There is no media {media_id}.")
    if not at_least(user.role, "author") and media.uploader_id != user.id:
        raise feature_image_refused("Contributors may use only media they uploaded.")
    return media.id


def feature_image_refused(message: str) -> ApiError:
    """422 naming the feature_image_id field."""
    return ApiError(
        422,
        "The request has invalid fields: feature_image_id.",
        errors={"feature_image_id": [message]},
    )
