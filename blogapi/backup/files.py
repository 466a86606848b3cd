"""Media files in an export: read from the storage one at a time on the way out, checked
against their media rows and stored one at a time on the way in, removed again if the import
fails."""

from __future__ import annotations

import hashlib
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from sqlalchemy import Connection, select

from blogapi.db.models import Media, media_file_keys
from blogapi.media.containers import trailing_data
from blogapi.media.images import CONTENT_TYPES
from blogapi.media.service import remove_files
from blogapi.media.storage import Storage, StorageError, media_storage

MEDIA = Media.__table__
# What Pillow's decoders and the container walk raise on bytes that are not their format.
DECODER_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError)
FORMAT_OF = {content_type: name for name, content_type in CONTENT_TYPES.items()}  # PIL's names


class ExportProblem(Exception):
    """The export cannot be written; the message says why."""


def count_files(conn: Connection) -> int:
    """How many files the media rows name."""
    rows = conn.execute(select(MEDIA.c.key, MEDIA.c.variants)).mappings()
    return sum(len(media_file_keys(row["key"], row["variants"])) for row in rows)


def file_records(rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """Every file the media rows name, read from the storage one at a time: key and bytes."""
    storage = media_storage()
    for row in rows:
        for key in media_file_keys(row["key"], row["variants"]):
            try:
                data = storage.read(key)
            except KeyError:
                raise ExportProblem(
                    f"media {row['id']} names the file {key}, which the {storage.name} media "
                    "storage does not hold (was it deleted meanwhile? then export again)"
                ) from None
            except StorageError as exc:
                raise ExportProblem(str(exc)) from None
            yield {"key": key, "data": data}


@dataclass(frozen=True)
class Expected:
    """A file a media row names: what its bytes must be."""

    media_id: int
    line: int
    content_type: str
    width: int
    height: int
    bytes: int
    sha256: str | None  # rows give the digest of the image only, not of its variants


class FileImport:
    """The files of an import: which the media rows name, which came, and which this import
    stored (removed again if it fails)."""

    def __init__(self, problem: type[Exception]) -> None:
        """Report bad files as `problem`s."""
        self.problem = problem
        self.expected: dict[str, Expected] = {}
        self.arrived: dict[str, int] = {}  # key -> line
        self.uploads: dict[tuple[int, str], int] = {}  # (uploader, source sha256) -> line
        self.stored: list[str] = []
        self._storage: Storage | None = None

    @property
    def storage(self) -> Storage:
        """The app's media storage, where the files go."""
        if self._storage is None:
            self._storage = media_storage()
        return self._storage

    def expect(self, number: int, media: dict[str, Any]) -> None:
        """Note the files a media record names; refuse a key or an upload another one has."""
        upload = (media["uploader_id"], media["source_sha256"])
        if upload in self.uploads:
            raise self.problem(
                f"line {number}: user {upload[0]} uploaded these bytes (source_sha256) "
                f"already on line {self.uploads[upload]}"
            )
        self.uploads[upload] = number
        files = [
            (media["key"], media["width"], media["height"], media["bytes"], media["sha256"]),
            *((v["key"], v["width"], v["height"], v["bytes"], None) for v in media["variants"]),
        ]
        for key, width, height, size, sha256 in files:
            if key in self.expected:
                first = self.expected[key]
                raise self.problem(
                    f"line {number}: the key {key} is already media {first.media_id}'s "
                    f"(line {first.line})"
                )
            self.expected[key] = Expected(
                media["id"], number, media["content_type"], width, height, size, sha256
            )

    def store(self, number: int, key: str, data: bytes) -> None:
        """Check a file against its media row and store it (unless the storage holds it)."""
        expected = self.expected.get(key)
        if expected is None:
            raise self.problem(f"line {number}: file {key} belongs to no media on an earlier line")
        if key in self.arrived:
            raise self.problem(f"line {number}: file {key} is already on line {self.arrived[key]}")
        self.arrived[key] = number
        problem = self.mismatch(expected, data)
        if problem:
            raise self.problem(
                f"line {number}: file {key} is not the one media {expected.media_id} "
                f"describes: {problem}"
            )
        try:
            held = self.storage.get(key)
            if held is not None:
                # The storage the export came from (a database moved, its files left in place):
                # those files stay, whatever becomes of this import.
                if self.held_bytes(held) != data:
                    raise self.problem(
                        f"line {number}: the {self.storage.name} media storage already holds "
                        f"a different file under {key}"
                    )
                return
            self.stored.append(key)  # first: a put that fails half way is removed too
            self.storage.put(key, data)
        except (StorageError, OSError) as exc:
            raise self.problem(f"line {number}: cannot store file {key}: {exc}") from None

    @staticmethod
    def held_bytes(held: Any) -> bytes:
        """The bytes of a file the storage already holds."""
        return bytes(held.data) if held.data is not None else held.path.read_bytes()

    @staticmethod
    def mismatch(expected: Expected, data: bytes) -> str:
        """Why these bytes are not the file the row describes ("" when they are)."""
        if len(data) != expected.bytes:
            return f"it has {len(data)} bytes, the row says {expected.bytes}"
        if expected.sha256 is not None and hashlib.sha256(data).hexdigest() != expected.sha256:
            return "its SHA-256 is not the row's sha256"
        from PIL import Image  # only an import with media files needs Pillow

        image_format = FORMAT_OF[expected.content_type]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(BytesIO(data), formats=[image_format]) as image:
                    size = image.size
            extra = trailing_data(data, image_format)
        except (*DECODER_ERRORS, Image.DecompressionBombError):
            return f"its bytes are not {expected.content_type}"
        if size != (expected.width, expected.height):
            return (
                f"it is {size[0]}x{size[1]} pixels, the row says {expected.width}x{expected.height}"
            )
        if extra:
            return "it holds more than an image after the image's end"
        return ""

    def check_complete(self) -> None:
        """Refuse an import whose media rows name a file that the export does not hold."""
        for key, expected in self.expected.items():
            if key not in self.arrived:
                raise self.problem(
                    f"media {expected.media_id} (line {expected.line}) names the file {key}, "
                    "which the export does not hold"
                )

    def remove_stored(self) -> None:
        """Remove the files this import stored."""
        if self.stored:
            remove_files(self.stored)
            self.stored = []
