"""Reading an upload from the request: a multipart form with one `file` (and `alt`), or the
image as the raw body with its name in Content-Disposition."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header

from blogapi.media.schemas import upload_fields_schema
from blogapi.web.body import body_bytes
from blogapi.web.errors import ApiError

MULTIPART = "multipart/form-data"
# Room for the multipart boundaries, part headers and the alt field around the file itself.
FORM_OVERHEAD = 64 * 1024
WRONG_TYPE = (
    "Send the image as multipart/form-data (field `file`, optional `alt`), or as the raw body "
    "(an image/* or application/octet-stream type) with Content-Disposition naming the file."
)


@dataclass(frozen=True)
class Upload:
    """What a client sent: the file's bytes, the name it gave, and the alt text."""

    data: bytes
    filename: str
    alt: str


def too_large(limit: int) -> RequestEntityTooLarge:
    """413 naming MEDIA_MAX_BYTES."""
    error = RequestEntityTooLarge()
    error.description = f"The file is larger than MEDIA_MAX_BYTES ({limit:,} bytes)."
    return error


def read_upload() -> Upload:
    """The upload in this request; 413 over MEDIA_MAX_BYTES, 415 for another kind of body, 422
    for a form without exactly one file."""
    limit: int = current_app.config["MEDIA_MAX_BYTES"]
    # Uploads are bounded by MEDIA_MAX_BYTES, not by MAX_CONTENT_LENGTH (which JSON bodies keep).
    request.max_content_length = limit + FORM_OVERHEAD
    if request.mimetype == MULTIPART:
        return form_upload(limit)
    if request.mimetype == "application/octet-stream" or request.mimetype.startswith("image/"):
        return raw_upload(limit)
    raise ApiError(415, WRONG_TYPE)


def form_upload(limit: int) -> Upload:
    """One `file` part and the form fields beside it."""
    try:
        files, form = request.files, request.form
    except RequestEntityTooLarge:
        raise too_large(limit) from None
    parts: list[FileStorage] = files.getlist("file")
    others = sorted(name for name in files if name != "file")
    errors: dict[str, list[str]] = {}
    if not parts:
        errors["file"] = ["Missing data for required field."]
    elif len(parts) > 1:
        errors["file"] = ["Send one file per request."]
    for name in others:
        errors[name] = ["Unknown field: send the image as `file`."]
    if errors:
        raise ApiError(422, "The request has invalid fields: " + ", ".join(errors), errors=errors)
    data = part_bytes(parts[0], limit)
    repeated = sorted(name for name in form if len(form.getlist(name)) > 1)
    if repeated:
        errors = {name: ["Send this field once."] for name in repeated}
        raise ApiError(422, "The request has invalid fields: " + ", ".join(repeated), errors=errors)
    fields = upload_fields_schema.load(form.to_dict())
    return Upload(data, parts[0].filename or "", fields["alt"])


def part_bytes(part: FileStorage, limit: int) -> bytes:
    """A form part's bytes, reading no more than one byte past `limit`; 413 over it."""
    data = part.stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def raw_upload(limit: int) -> Upload:
    """The raw body, named by Content-Disposition's filename (filename* preferred)."""
    try:
        data = body_bytes()
    except RequestEntityTooLarge:
        raise too_large(limit) from None
    if len(data) > limit:
        raise too_large(limit)
    _kind, options = parse_options_header(request.headers.get("Content-Disposition", ""))
    return Upload(data, options.get("filename", ""), "")
