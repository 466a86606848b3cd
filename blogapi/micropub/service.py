"""What Micropub's actions do to posts, through the posts feature's own service (so revisions,
feeds, search and caches see them as any other write): create, update, delete, undelete."""

from __future__ import annotations

from datetime import datetime

from werkzeug.datastructures import FileStorage

from blogapi.db.models import Post, User
from blogapi.media.service import upload_media
from blogapi.micropub.entries import Entry, place_photos, post_data
from blogapi.micropub.errors import forbidden, invalid_request
from blogapi.micropub.photos import Photo, photo_url
from blogapi.micropub.source import post_at
from blogapi.micropub.uploads import file_bytes
from blogapi.posts.access import can_delete, can_edit, can_publish
from blogapi.posts.history.trash import restore_post
from blogapi.posts.service import (
    create_post,
    publish_post,
    trash_post,
    unpublish_post,
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
    for upload in files:
        media, _created = upload_media(file_bytes(upload), upload.filename or "", "", user)
        if entry.feature_image_id is None:
            entry.feature_image_id = media.id
        else:
            entry.photos.append(Photo(photo_url(media)))
    place_photos(entry)
    post = create_post(post_data(entry), user)
    if entry.status == "published":
        post = publish_post(post, entry.published, conditional=False)
    return post


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
    its publication."""
    place_photos(entry)
    data = post_data(entry)
    data.setdefault("feature_image_id", None)
    data.setdefault("summary", "")
    data.setdefault("tags", {})
    post = update_post(post, data, user, conditional=False)
    return set_status(post, entry, user)


def set_status(post: Post, entry: Entry, user: User) -> Post:
    """Publish, reschedule or unpublish as the entry's post-status and published say."""
    now = request_now()
    live = post.status_at(now) != "draft"
    wanted: datetime | None = entry.published or (post.published_at if live else None)
    if entry.status == "draft" and not live:
        return post
    if entry.status == "published" and live and wanted == post.published_at:
        return post
    if not can_publish(user, post):
        raise forbidden(NO_PUBLISHING)
    if entry.status == "draft":
        return unpublish_post(post, conditional=False)
    if drafts_only():
        raise forbidden("This token writes drafts only; it cannot publish.")
    return publish_post(post, wanted, conditional=False)


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
    if post is None or not (post.author_id == user.id or at_least(user.role, "editor")):
        raise invalid_request("There is no post at this URL in the trash (or none you may see).")
    if not can_delete(user, post, request_now()):
        raise forbidden(NOT_YOURS)
    return restore_post(post, conditional=False)
