"""A Micropub request as one shape, whatever it came as: form-encoded (`category[]`,
`photo[value]`, `content[html]`), multipart (files in `photo`), or JSON (`type` and
`properties`, or an `action`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, request
from werkzeug.datastructures import FileStorage, MultiDict

from blogapi.micropub.errors import invalid_request, micropub_error
from blogapi.web.body import JSON_MIME, json_body

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Room for the multipart boundaries and the fields around the files themselves.
FORM_OVERHEAD = 64 * 1024
# `name`, then up to four `[segment]`s: `photo[value]`, `x[properties][num]`, `category[]`.
FORM_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\]){1,4})")
SEGMENT = re.compile(r"\[([^\[\]]*)\]")
WRONG_TYPE = "Send a Micropub request as form-encoded, multipart/form-data or JSON."


@dataclass
class Submission:
    """What a client asked for: an action (None: create) on a URL, the type of a new post, its
    properties as mf2 JSON lists, uploaded photo files, and the update operations."""

    action: str | None = None
    url: str | None = None
    kind: str | None = None
    properties: dict[str, list[Any]] = field(default_factory=dict)
    files: list[FileStorage] = field(default_factory=list)
    operations: dict[str, Any] = field(default_factory=dict)
    access_token: str | None = None
    as_json: bool = False


def submission() -> Submission:
    """The request's submission, read once (the token guard reads it first)."""
    if "micropub_submission" not in g:
        g.micropub_submission = read_submission()
    found: Submission = g.micropub_submission
    return found


def read_submission() -> Submission:
    """Read the body by its type; 415 for another type, 400 for a malformed one."""
    if request.mimetype == JSON_MIME:
        return json_submission(json_body())
    if request.mimetype == MULTIPART:
        # Files are bounded by MEDIA_MAX_BYTES in all, not by MAX_CONTENT_LENGTH.
        request.max_content_length = current_app.config["MEDIA_MAX_BYTES"] + FORM_OVERHEAD
    if request.mimetype in (FORM, MULTIPART):
        return form_submission(request.form, request.files)
    raise micropub_error(415, "invalid_request", WRONG_TYPE)


def single(values: list[Any] | None, name: str) -> str | None:
    """The one text value of a top-level field (h, action, url, access_token)."""
    if values is None:
        return None
    if len(values) != 1 or not isinstance(values[0], str):
        raise invalid_request(f"Send `{name}` once, as text.")
    return values[0]


def form_submission(form: MultiDict[str, str], files: MultiDict[str, FileStorage]) -> Submission:
    """A form-encoded or multipart request."""
    fields = form_properties(form)
    photos: list[FileStorage] = []
    for name, upload in files.items(multi=True):
        if name not in ("photo", "photo[]"):
            raise invalid_request(f"Only photos may be uploaded here (the `photo` field): {name}.")
        photos.append(upload)
    return Submission(
        action=single(fields.pop("action", None), "action"),
        url=single(fields.pop("url", None), "url"),
        kind=single(fields.pop("h", None), "h"),
        access_token=single(fields.pop("access_token", None), "access_token"),
        properties=fields,
        files=photos,
    )


def form_properties(form: MultiDict[str, str]) -> dict[str, list[Any]]:
    """Form fields as mf2 JSON: `a` and `a[]` (or `a[0]`) give a list of values, `a[b][c]=v`
    one object value {b: {c: v}}."""
    found: dict[str, list[Any]] = {}
    objects: dict[str, dict[str, Any]] = {}
    for key, value in form.items(multi=True):
        if not key:  # werkzeug reads a part without a name as None
            raise invalid_request("Every field needs a name.")
        matched = FORM_KEY.fullmatch(key)
        path = SEGMENT.findall(matched.group(2)) if matched else []
        name = matched.group(1) if matched else key
        if not path or (len(path) == 1 and (path[0] == "" or path[0].isdigit())):
            found.setdefault(name, []).append(value)
            continue
        place: dict[str, Any] = objects.setdefault(name, {})
        for segment in path[:-1]:
            inner = place.setdefault(segment, {})
            if not isinstance(inner, dict):
                raise invalid_request(f"The field {key} conflicts with another of its name.")
            place = inner
        place[path[-1]] = value
    for name, made in objects.items():
        found.setdefault(name, []).append(made)
    return found


def json_submission(body: dict[str, Any]) -> Submission:
    """A JSON request: a new post's `type` and `properties`, or an `action` on a `url`."""
    token = body.pop("access_token", None)
    if token is not None and not isinstance(token, str):
        raise invalid_request("`access_token` must be text.")
    action, url = body.get("action"), body.get("url")
    for name, value in (("action", action), ("url", url)):
        if value is not None and not isinstance(value, str):
            raise invalid_request(f"`{name}` must be text.")
    if action is not None:
        operations = {k: v for k, v in body.items() if k in ("replace", "add", "delete")}
        return Submission(action, url, operations=operations, access_token=token, as_json=True)
    kinds = body.get("type")
    if not (isinstance(kinds, list) and len(kinds) == 1 and isinstance(kinds[0], str)):
        raise invalid_request('Give the new post\'s type as "type": ["h-entry"].')
    properties = body.get("properties", {})
    if not isinstance(properties, dict) or not all(
        isinstance(values, list) for values in properties.values()
    ):
        raise invalid_request("`properties` must map each property to a list of values.")
    kind = kinds[0].removeprefix("h-") if kinds[0].startswith("h-") else kinds[0] + "?"
    return Submission(kind=kind, properties=properties, access_token=token, as_json=True)
