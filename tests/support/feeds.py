"""Reading the feeds as readers' tools do: feedparser for Atom and RSS, the JSON Feed 1.1
JSON Schema for JSON Feed."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import feedparser
import jsonschema

DATA = Path(__file__).parent / "data"
XML_KINDS = ("atom", "rss")
KINDS = ("atom", "rss", "json")


@cache
def json_feed_validator() -> jsonschema.Draft7Validator:
    """The vendored JSON Feed 1.1 schema (tests/support/data/README.md says whose)."""
    schema = json.loads((DATA / "jsonfeed-1.1.schema.json").read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def parse_xml_feed(body: bytes) -> Any:
    """An Atom or RSS feed as feedparser reads it, well-formed and unmangled (bozo 0, no
    sanitizing, no URL rewriting: what we sent is what a reader gets)."""
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def parse_json_feed(body: bytes) -> dict[str, Any]:
    """A JSON Feed, valid under the JSON Feed 1.1 schema."""
    feed: dict[str, Any] = json.loads(body)
    errors = [error.message for error in json_feed_validator().iter_errors(feed)]
    assert not errors, errors
    return feed


def entry_ids(kind: str, body: bytes) -> list[str]:
    """The ids of a feed's entries, in order."""
    if kind == "json":
        return [item["id"] for item in parse_json_feed(body)["items"]]
    return [entry.id for entry in parse_xml_feed(body).entries]
