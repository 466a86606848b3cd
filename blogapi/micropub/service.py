"""What Micropub's actions do to posts, through the posts feature's own service (so revisions,
feeds, search and caches see them as any other write): create, update, delete, undelete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from werkzeug.datastructures import FileStorage

from blogapi.db.models import Media, Post, User
from blogapi.media.service import upload_media
from blogapi.micropub.entries import PHOTOS_MAX, Entry, place_photos, post_data
from blogapi.micropub.errors import forbidden, invalid_request
from blogapi.micropub.photos import Photo, photo_url
from blogapi.micropub.source import post_at
from blogapi.micropub.uploads import file_bytes
from blogapi.posts.access import can_delete, can_edit, can_publish, can_see_history
from blogapi.posts.history.trash import restore_post
from blogapi.posts.service import (
    create_post,
    trash_post,
    update_post,
)
from blogapi.security.personal_tokens import drafts_only
from blogapi.security.roles import at_least
from blogapi.timeutil import request_now

NO_POST = "There is no post at this URL (or none you may see)."
NOT_YOURS = "Only the post's author or an editor may change it; contributors only their drafts."
NO_PUBLISHING = "Publishing needs the author role or above (contributors write drafts)."


def create_entry(entry: Entry, files: list[FileStorage], user: User) -> Post:
    """A new post from an entry and its uploaded photos, published as it asks."""
    if drafts_only():
        entry.status = "draft"  # a token with the draft scope writes drafts only
    if entry.status == "published" and not at_least(user.role, "author"):
        raise forbidden(NO_PUBLISHING)  # can_publish's rule for a post the caller owns
    if len(entry.photos) + len(files) > PHOTOS_MAX:
        raise invalid_request(f"Send at most {PHOTOS_MAX} photos.")
    if files:
        post_data(entry)  # refuse bad properties before any upload is stored
    for upload in files:
        media = store_upload(upload, user)
        if entry.feature_image_id is None:
            entry.feature_image_id = media.id
        else:
            entry.photos.append(Photo(photo_url(media), media_id=media.id))
    place_photos(entry)
    data = post_data(entry)
    if entry.status == "published":  # live in the same transaction as the post itself
        data["published_at"] = entry.published or request_now()
    return create_post(data, user)


def editable_post(url: str | None, user: User) -> Post:
    """The live post at `url` the caller may edit: 400 for no such post, 403 if not theirs."""
    post = post_at(url)
    if post is None:
        raise invalid_request(NO_POST)
    if not can_edit(user, post, request_now()):
        raise forbidden(NOT_YOURS)
    return post


def update_entry(post: Post, entry: Entry, user: User) -> Post:
    """Make the post what the entry says: its fields (a revision when content changed), then
    its publication; every check comes before the first write."""
    change = publication_change(post, entry)
    if change is not None and not can_publish(user, post):
        raise forbidden(NO_PUBLISHING)
    if change is not None and change.publish and drafts_only():
        raise forbidden("This token writes drafts only; it cannot publish.")
    place_photos(entry)
    data = post_data(entry)
    data.setdefault("feature_image_id", None)
    data.setdefault("summary", "")
    data.setdefault("tags", {})
    if change is not None:  # in the same transaction as the content
        data["published_at"] = (change.at or request_now()) if change.publish else None
    return update_post(post, data, user, conditional=False)


@dataclass(frozen=True)
class Publication:
    """A change of a post's publication: publish (at `at`, None: now), or back to draft."""

    publish: bool
    at: datetime | None = None


def publication_change(post: Post, entry: Entry) -> Publication | None:
    """What the entry's post-status and published ask of the post, if anything."""
    live = post.status_at(request_now()) != "draft"  # published or scheduled
    if entry.status == "draft":
        return Publication(publish=False) if live else None
    wanted = entry.published or (post.published_at if live else None)
    if live and wanted == post.published_at:
        return None
    return Publication(publish=True, at=wanted)


def store_upload(upload: FileStorage, user: User) -> Media:
    """An uploaded image stored as media (the caller's earlier copy of the same bytes, if any)."""
    media, _created = upload_media(file_bytes(upload), upload.filename or "", "", user)
    return media


def delete_entry(url: str | None, user: User) -> None:
    """Move the post at `url` to the trash."""
    post = post_at(url)
    if post is None:
        raise invalid_request(NO_POST)
    if not can_delete(user, post, request_now()):
        raise forbidden(NOT_YOURS)
    trash_post(post, user, conditional=False)


def undelete_entry(url: str | None, user: User) -> Post:
    """Bring the post at `url` back from the trash, as it was."""
    post = post_at(url, trashed=True)
    if post is None or not can_see_history(user, post):  # whose trash shows it
        raise invalid_request("There is no post at this URL in the trash (or none you may see).")
    if not can_delete(user, post, request_now()):
        raise forbidden(NOT_YOURS)
    return restore_post(post, conditional=False)
