"""Files sent to Micropub: photos with a new post, and the media endpoint's `file`, bounded by
MEDIA_MAX_BYTES as the media API bounds its uploads."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.datastructures import FileStorage

from blogapi.media.upload import FORM_OVERHEAD, MULTIPART, part_bytes
from blogapi.micropub.errors import invalid_request, micropub_error


def file_bytes(upload: FileStorage) -> bytes:
    """An uploaded file's bytes; 413 over MEDIA_MAX_BYTES."""
    return part_bytes(upload, current_app.config["MEDIA_MAX_BYTES"])


def media_upload() -> tuple[FileStorage, str | None]:
    """The media endpoint's one `file` part, and the `access_token` field beside it if any;
    415 for another kind of body, 400 for a form without exactly one file."""
    if request.mimetype != MULTIPART:
        raise micropub_error(415, "invalid_request", "Send the file as multipart/form-data.")
    request.max_content_length = current_app.config["MEDIA_MAX_BYTES"] + FORM_OVERHEAD
    parts = request.files.getlist("file")
    if len(parts) != 1 or len(request.files) != 1:
        raise invalid_request("Send one file, as the `file` part.")
    tokens = request.form.getlist("access_token")
    if len(tokens) > 1:
        raise invalid_request("Send `access_token` once.")
    return parts[0], (tokens[0] if tokens else None)
