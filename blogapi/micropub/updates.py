"""action=update: `replace`, `add` and `delete` applied to the post's properties as q=source
gives them, and the result read as a new entry (so an update is a create's rules again)."""

from __future__ import annotations

from typing import Any

from blogapi.db.models import Post
from blogapi.micropub.entries import Entry, read_entry
from blogapi.micropub.errors import invalid_request
from blogapi.micropub.source import source_properties

OPERATIONS = ("replace", "add", "delete")
# What q=source says that is not the post's content to change.
READ_ONLY = ("url",)


def values_by_property(operation: str, value: Any) -> dict[str, list[Any]]:
    """An operation's {property: [values]}; 400 for any other shape."""
    if not isinstance(value, dict) or not all(isinstance(v, list) for v in value.values()):
        raise invalid_request(f"`{operation}` maps each property to a list of values.")
    return value


def updated_properties(post: Post, operations: dict[str, Any]) -> dict[str, list[Any]]:
    """The post's properties after the operations (replace, then add, then delete)."""
    if not operations:
        raise invalid_request("An update needs `replace`, `add` or `delete`.")
    properties = source_properties(post)
    for name in READ_ONLY:
        properties.pop(name, None)
    if "replace" in operations:
        properties.update(values_by_property("replace", operations["replace"]))
    if "add" in operations:
        for name, values in values_by_property("add", operations["add"]).items():
            properties[name] = properties.get(name, []) + values
    if "delete" in operations:
        delete_values(properties, operations["delete"])
    return properties


def delete_values(properties: dict[str, list[Any]], delete: Any) -> None:
    """Remove whole properties (a list of names) or some of their values ({name: [values]})."""
    if isinstance(delete, list) and all(isinstance(name, str) for name in delete):
        for name in delete:
            properties.pop(name, None)
        return
    for name, values in values_by_property("delete", delete).items():
        kept = [value for value in properties.get(name, []) if value not in values]
        if kept:
            properties[name] = kept
        else:
            properties.pop(name, None)


def updated_entry(post: Post, operations: dict[str, Any]) -> Entry:
    """The entry the post becomes."""
    return read_entry(updated_properties(post, operations))
