"""Which migration revision the database records, and which the code's migrations end at.

The code's side is read from the revision files themselves, once per process: importing
Alembic for it would cost every web worker what db/migrations.py keeps out of them."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class History:
    """The revisions of a migrations directory, and its heads (those no revision follows)."""

    revisions: frozenset[str]
    heads: frozenset[str]


def assignments(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The literal values a module assigns at its top level to `names`."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in names:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return found


@functools.lru_cache(maxsize=4)
def code_history(directory: str) -> History:
    """The revisions and heads of the migrations in `directory` (its versions/ folder), read
    once per process; none when the folder is missing."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in sorted(Path(directory, "versions").glob("*.py")):
        found = assignments(path, ("revision", "down_revision"))
        revision, down = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        # A merge revision follows several.
        followed.update([down] if isinstance(down, str) else down if down else ())
    return History(frozenset(revisions), frozenset(revisions - followed))


def stored_revisions(connection: Connection) -> frozenset[str] | None:
    """The revisions the database records (empty: none), or None when it has no version table
    (its schema was never built or stamped by the migrations)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return frozenset(str(row[0]) for row in rows)
