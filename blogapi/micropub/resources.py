"""Micropub and MicropubMedia: the W3C Micropub endpoint and its media endpoint."""

from __future__ import annotations

from flask import Response, request
from flask_restful import Resource

from blogapi.media.service import media_url
from blogapi.micropub.auth import require_scope
from blogapi.micropub.docs import MEDIA_DOC, POST_DOC, QUERY_DOC
from blogapi.micropub.entries import read_entry
from blogapi.micropub.errors import invalid_request
from blogapi.micropub.guard import MicropubGuard
from blogapi.micropub.parsing import Submission, submission
from blogapi.micropub.service import (
    create_entry,
    delete_entry,
    editable_post,
    store_upload,
    undelete_entry,
    update_entry,
)
from blogapi.micropub.source import post_at, source
from blogapi.micropub.updates import updated_entry
from blogapi.micropub.uploads import media_upload
from blogapi.posts.access import can_see
from blogapi.security.guards import signed_in
from blogapi.security.ratelimit import per_user, post_write_limit
from blogapi.site.links import micropub_media_url, post_url
from blogapi.timeutil import request_now
from blogapi.web.api import bodiless, no_content
from blogapi.web.api import output_json as json_reply
from blogapi.web.endpoint import endpoint

POST_TYPES = [
    {"type": "note", "name": "Note"},
    {"type": "article", "name": "Article"},
    {"type": "photo", "name": "Photo"},
]


def created(location: str) -> Response:
    """201 with the new thing's URL in Location, and no body."""
    return bodiless(201, {"Location": location})


def body_token() -> str | None:
    """The `access_token` a Micropub POST carries in its body, if any."""
    return submission().access_token


def media_token() -> str | None:
    """The `access_token` beside the media endpoint's file, if any."""
    return media_upload()[1]


class Micropub(Resource):
    """GET: configuration and source queries; POST: create, update, delete, undelete."""

    @endpoint(auth=MicropubGuard(), **QUERY_DOC)
    def get(self) -> Response:
        """q=config, q=syndicate-to, or q=source&url=… (with properties[])."""
        query = request.args.get("q")
        if query == "config":
            config = {"media-endpoint": micropub_media_url(), "syndicate-to": []}
            return json_reply({**config, "post-types": POST_TYPES}, 200)
        if query == "syndicate-to":
            return json_reply({"syndicate-to": []}, 200)
        if query == "source":
            post = post_at(request.args.get("url"))
            if post is None or not can_see(signed_in(), post, request_now()):
                raise invalid_request("There is no post at this URL (or none you may see).")
            wanted = request.args.getlist("properties[]") + request.args.getlist("properties")
            return json_reply(source(post, wanted), 200)
        raise invalid_request("Ask q=config, q=source (with url) or q=syndicate-to.")

    # The posts and media APIs' per-user write limits, shared with them.
    @endpoint(
        auth=MicropubGuard(body_token),
        limits=per_user(post_write_limit, "post-write"),
        **POST_DOC,
    )
    def post(self) -> Response:
        """Create an h-entry, or update, delete or undelete the post at `url`."""
        found = submission()
        if found.action is None:
            return self.create(found)
        if found.action == "update":
            return self.update(found)
        if found.action in ("delete", "undelete"):
            require_scope("delete")
            if found.action == "delete":
                delete_entry(found.url, signed_in())
            else:
                undelete_entry(found.url, signed_in())
            return no_content()
        raise invalid_request(
            f"Unsupported action {found.action[:50]!r}: use update, delete or undelete."
        )

    @staticmethod
    def create(found: Submission) -> Response:
        """A new post; 201 with its public URL."""
        require_scope("create")
        if (found.kind or "entry") != "entry":
            raise invalid_request("Only h-entry posts can be created here.")
        post = create_entry(read_entry(found.properties), found.files, signed_in())
        return created(post_url(post))

    @staticmethod
    def update(found: Submission) -> Response:
        """Change a post; 201 with its new URL when its slug changed, else 204."""
        require_scope("update")
        if not found.as_json:
            raise invalid_request("Send updates as JSON.")
        user = signed_in()
        post = editable_post(found.url, user)
        before = post_url(post)
        post = update_entry(post, updated_entry(post, found.operations), user)
        after = post_url(post)
        return created(after) if after != before else no_content()


class MicropubMedia(Resource):
    """The media endpoint: an image in, its file's URL out."""

    @endpoint(
        auth=MicropubGuard(media_token),
        limits=per_user(post_write_limit, "media-upload"),
        **MEDIA_DOC,
    )
    def post(self) -> Response:
        """Store one image (multipart `file`); 201 with its file's URL."""
        require_scope("media")
        upload, _token = media_upload()
        return created(media_url(store_upload(upload, signed_in()).key))
