"""Log lines: one JSON object per line (production) or readable text (development), each with
the request id of the request or job that logged it.

A record may carry structured fields as `extra={"fields": {...}}`; the JSON form puts them at
the top level, the text form after the message. Nothing here adds a body, a token or an address
book entry: callers pass only what may be read by whoever reads the logs.
"""

from __future__ import annotations

import logging
import sys
import traceback
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from blogapi.observability.request_ids import current_request_id

FORMATS = ("json", "text")
# Loggers whose lines join ours: the app's own, and Flask-Limiter's storage news.
LOGGERS = ("blogapi", "flask-limiter")
HANDLER_MARK = "blogapi_handler"
BASE_KEYS = ("time", "level", "logger", "message", "request_id")


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text
MILLISECONDS = tuple(f"{ms:03d}Z" for ms in range(1000))


def timestamp(created: float) -> str:
    """A record's time as ISO 8601 UTC with milliseconds (the second's text made once)."""
    second = int(created)
    return second_text(second) + MILLISECONDS[int((created - second) * 1000)]


def second_text(second: int) -> str:
    """A whole second as ISO 8601 UTC up to its milliseconds ("…T12:34:56."), kept for the
    next time of the same second."""
    if _second[0] != second:
        _second[1] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        _second[0] = second
    text: str = _second[1]
    return text


def record_request_id(record: logging.LogRecord) -> str | None:
    """The request id a record was logged under."""
    return getattr(record, "request_id", None)


def stamp_request_ids() -> None:
    """Give every log record, from any library, the request id current when it is made (a
    handler may format it later, after the request)."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, HANDLER_MARK, False):
        return

    def stamped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    setattr(stamped, HANDLER_MARK, True)
    logging.setLogRecordFactory(stamped)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """A record's structured fields, without any that would overwrite the base keys."""
    fields = getattr(record, "fields", None)
    if not isinstance(fields, dict):
        return {}
    return {key: value for key, value in fields.items() if key not in BASE_KEYS}


def line_fields(
    created: float,
    level: str,
    logger: str,
    message: str,
    request_id: str | None,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """The keys of one JSON line: time, level, logger, message, request_id, then the fields."""
    line: dict[str, Any] = {
        "time": timestamp(created),
        "level": level,
        "logger": logger,
        "message": message,
    }
    if request_id is not None:
        line["request_id"] = request_id
    line.update(fields)
    return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """time, level, logger, message, request_id, the record's fields, and any error."""
        line = line_fields(
            record.created,
            record.levelname,
            record.name,
            record.getMessage(),
            record_request_id(record),
            record_fields(record),
        )
        if record.exc_info:
            line["error"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message key=value…`, for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """One readable line, then any traceback."""
        parts = [timestamp(record.created), record.levelname, record.name]
        request_id = record_request_id(record)
        if request_id is not None:
            parts.append(f"[{request_id}]")
        parts.append(record.getMessage())
        parts.extend(f"{key}={value}" for key, value in record_fields(record).items())
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return text


class AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The app's own handler: a stream handler that first lets lines written around it (the
    request layer's gathered access lines) go out, so the stream reads in order."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.write_first: weakref.WeakMethod[Callable[[], None]] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Write what waits to go first, then the record."""
        pending = self.write_first() if self.write_first is not None else None
        if pending is not None:
            pending()
        super().emit(record)


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter LOG_FORMAT names."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def configure_logging(
    log_format: str, level: str, *, propagate: bool, loggers: tuple[str, ...] = LOGGERS
) -> None:
    """Send `loggers` to stderr in `log_format`, once per process; `propagate` lets records
    reach the root logger too (the test suite's capture)."""
    stamp_request_ids()
    for name in loggers:
        logger = logging.getLogger(name)
        handler = next((h for h in logger.handlers if getattr(h, HANDLER_MARK, False)), None)
        if handler is None:
            handler = AppHandler(sys.stderr)
            setattr(handler, HANDLER_MARK, True)
            logger.addHandler(handler)
        handler.setFormatter(formatter_for(log_format))
        logger.setLevel(level)
        logger.propagate = propagate
