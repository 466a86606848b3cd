"""Log lines as production writes them: each record through the JSON formatter."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from blogapi.observability.logs import JsonFormatter

FORMATTER = JsonFormatter()


def json_line(record: Any) -> dict[str, Any]:
    """One record as the one-line JSON object production logs it as."""
    line = FORMATTER.format(record)
    assert "\n" not in line
    parsed: dict[str, Any] = orjson.loads(line)
    return parsed


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """Every audit line logged so far, parsed."""
    return [json_line(record) for record in caplog.records if record.name == "blogapi.audit"]
