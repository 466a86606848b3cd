"""MediaList, MediaItem and MediaFile: uploading, describing and serving images."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, url_for
from flask_restful import Resource

from blogapi.db.models import Media
from blogapi.media.schemas import (
    AltSchema,
    MediaPageSchema,
    MediaQuerySchema,
    MediaSchema,
    media_schema,
)
from blogapi.media.service import (
    delete_media,
    media_page,
    set_alt,
    upload_media,
    visible_media,
)
from blogapi.media.serving import NO_FILE, serve_file
from blogapi.media.upload import read_upload
from blogapi.security.guards import ANY_SCOPE, role, signed_in
from blogapi.security.ratelimit import per_user, post_write_limit
from blogapi.web.api import no_content
from blogapi.web.endpoint import PUBLIC, Reply, endpoint
from blogapi.web.etags import check_if_match, etag_of, tagged_json
from blogapi.web.paging import page_response
from blogapi.web.schemas import ProblemSchema

CONTRIBUTOR = role("contributor")
READ_OWN = CONTRIBUTOR.with_token(ANY_SCOPE)
UPLOAD = CONTRIBUTOR.with_token("media")
CHANGED = "The media has changed since you fetched it; fetch it again and retry."
MEDIA = Reply(MediaSchema, "The media.", ("ETag",))
HIDDEN = "No such media, or not yours (editors see everyone's)."
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,  # other fields are refused (422), as in JSON
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "alt": {"type": "string", "maxLength": 1000},
                },
            },
            "encoding": {"file": {"contentType": "image/jpeg, image/png, image/gif, image/webp"}},
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


def media_bytes(media: Media) -> bytes:
    """The media's JSON, byte for byte as sent."""
    return orjson.dumps(media_schema.dump(media))


def media_response(
    media: Media, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """The media as JSON with its ETag."""
    return tagged_json(media_bytes(media), status, headers)


def changeable_media(media_id: int) -> Media:
    """Media the caller may change (theirs, or any as an editor; else 404), whose ETag still
    matches If-Match when one is sent (else 412)."""
    media = visible_media(media_id, signed_in())
    check_if_match(lambda: etag_of(media_bytes(media)), CHANGED)
    return media


class MediaList(Resource):
    """The caller's media library, and uploads."""

    @endpoint(
        summary="List media",
        description="Your uploads (editors and admins: everyone's), newest first; `q` narrows "
        "to file names and alt texts containing it.",
        tag="media",
        auth=READ_OWN,
        query=MediaQuerySchema,
        responses={200: Reply(MediaPageSchema, "A page of media.", ("Link", "X-Total-Count"))},
    )
    def get(self, query: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of the media the caller sees."""
        page, per_page = query["page"], query["per_page"]
        found, total = media_page(signed_in(), query.get("q"), page, per_page)
        items = media_schema.dump(found, many=True)
        return page_response(items, page=page, per_page=per_page, total=total)

    @endpoint(
        summary="Upload an image",
        description="A JPEG, PNG, GIF (animated too) or WebP, as multipart/form-data (`file`, "
        "optional `alt`) or as the raw body with `Content-Disposition: attachment; "
        'filename="…"`. The type is read from the bytes; the image is turned upright, stripped '
        "of all metadata and re-encoded, with variants at MEDIA_WIDTHS narrower than it. The "
        "same bytes uploaded again by you answer 200 with the earlier media.",
        tag="media",
        auth=UPLOAD,
        limits=per_user(post_write_limit, "media-upload"),
        responses={
            200: Reply(MediaSchema, "You uploaded these bytes before: that media.", ("ETag",)),
            201: Reply(MediaSchema, "The new media.", ("Location", "ETag")),
            400: "The multipart body is malformed.",
            403: "Needs the contributor role or above.",
            413: "The file is larger than MEDIA_MAX_BYTES.",
            415: "Not a JPEG, PNG, GIF or WebP (or more than an image), or not an upload.",
            422: "No `file`, several, or an empty, corrupt or too large (in pixels) image.",
        },
        extra={"requestBody": UPLOAD_BODY},
    )
    def post(self) -> Response:
        """Store an image and describe it."""
        upload = read_upload()
        media, created = upload_media(upload.data, upload.filename, upload.alt, signed_in())
        if not created:
            return media_response(media)
        return media_response(media, 201, {"Location": url_for("media_item", media_id=media.id)})


class MediaItem(Resource):
    """One media item, by id."""

    @endpoint(
        summary="Read a media item",
        description="Its uploader, or an editor (404 for everyone else).",
        tag="media",
        auth=READ_OWN,
        responses={200: MEDIA, 404: HIDDEN},
    )
    def get(self, media_id: int) -> Response:
        """The media with its ETag."""
        return media_response(visible_media(media_id, signed_in()))

    @endpoint(
        summary="Change a media item's alt text",
        description="Its uploader, or an editor.",
        tag="media",
        auth=UPLOAD,
        body=AltSchema,
        request_headers=("If-Match",),
        example={"alt": "A heron standing in the reeds at dawn"},
        responses={200: MEDIA, 404: HIDDEN, 412: "If-Match does not match the media's ETag."},
    )
    def patch(self, media_id: int, body: dict[str, Any]) -> Response:
        """Set the alt text."""
        return media_response(set_alt(changeable_media(media_id), body["alt"]))

    @endpoint(
        summary="Delete a media item",
        description="Its uploader, or an editor. Refused (409, naming them) while posts, in the "
        "trash too, show it as their feature image.",
        tag="media",
        auth=UPLOAD,
        request_headers=("If-Match",),
        responses={
            204: Reply(None, "Deleted, files and all."),
            404: HIDDEN,
            409: "Posts use it as their feature image (the problem's `posts` names them).",
            412: "If-Match does not match the media's ETag.",
        },
    )
    def delete(self, media_id: int) -> Response:
        """Delete the media and its files."""
        delete_media(changeable_media(media_id))
        return no_content()


class MediaFile(Resource):
    """A stored image file, at the site root."""

    @endpoint(
        summary="Read a media file",
        description="The file under a key from a media's `url` or variants, with its exact "
        "type, cached for good (a key never names other content); HEAD, ETag and Range work.",
        tag="media",
        auth=PUBLIC,
        uses_database=False,
        request_headers=("If-None-Match", "Range"),
        responses={
            200: Reply({"type": "string", "format": "binary"}, "The file.", ("ETag",), "image/*"),
            206: Reply(
                {"type": "string", "format": "binary"}, "The range asked for.", ("ETag",), "image/*"
            ),
            304: Reply(None, "Your copy is current.", ("ETag",)),
            404: NO_FILE,
            416: "The range is outside the file.",
            503: Reply(ProblemSchema, "The media storage is unavailable.", ("Retry-After",)),
        },
    )
    def get(self, key: str) -> Response:
        """The file."""
        return serve_file(key)
