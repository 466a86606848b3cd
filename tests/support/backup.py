"""Backup files as an admin meets them: a broken file refused whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask

from blogapi.backup.export import count_rows
from blogapi.extensions import db
from tests.support.cli import assert_one_line_error, cli


def assert_import_refused(
    app: Flask,
    runner: Any,
    path: Path,
    lines: list[dict[str, Any]],
    complaint: str,
    number: int | None,
) -> None:
    """Importing these records fails on one line naming the complaint (and the line, when
    given), and leaves the database empty."""
    path.write_text("".join(json.dumps(record) + "\n" for record in lines))
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert complaint in message
    if number:
        assert f": line {number}: " in message
    assert message.endswith("Nothing was imported.\n")
    with app.app_context():
        assert set(count_rows(db.session.connection()).values()) == {0}
