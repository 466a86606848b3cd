"""Where media files live, behind one small interface: a folder (default) or an S3 bucket.

Only keys made by blogapi/media/keys.py reach a storage; every method refuses anything else,
so no name a client chose can become a path or an object key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from blogapi.media.keys import content_type_of, is_key
from blogapi.web.errors import ApiError

EXTENSION_KEY = "blogapi.media_storage"
IMMUTABLE = "public, max-age=31536000, immutable"
log = logging.getLogger("blogapi.media")


class StorageError(RuntimeError):
    """The storage could not be reached or refused the operation."""


def storage_down(exc: StorageError) -> ApiError:
    """503 for a storage that failed (logged with what failed; the client learns no more)."""
    log.error("media storage failed: %s", exc)
    return ApiError(
        503, "The media storage is unavailable; try again shortly.", headers={"Retry-After": "5"}
    )


@dataclass(frozen=True)
class StoredFile:
    """A stored file to serve: a local path, or its bytes; its size and time of storing."""

    path: Path | None
    data: bytes | None
    size: int
    modified: datetime


class Storage(Protocol):
    """What the media feature needs from a storage."""

    name: str

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing nothing (keys are new)."""
        ...

    def get(self, key: str) -> StoredFile | None:
        """The file under `key`, or None."""
        ...

    def read(self, key: str) -> bytes:
        """The bytes under `key`; KeyError when absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file under `key`, if there is one."""
        ...

    def all_keys(self) -> Iterator[tuple[str, datetime]]:
        """Every media key stored, with when it was stored (other files are left out)."""
        ...


def checked(key: str) -> str:
    """The key, if it is one blogapi makes; ValueError otherwise."""
    if not is_key(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


class FilesystemStorage:
    """Files under a root folder, in subfolders named by the key's first two characters."""

    name = "filesystem"

    def __init__(self, root: str | Path) -> None:
        """Store under `root` (made on first write)."""
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        """The file a key is stored in."""
        return self.root / checked(key)[:2] / key

    def put(self, key: str, data: bytes) -> None:
        """Write to a temporary file beside the target, then rename: never a half file."""
        path = self.path_of(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temporary, 0o644)
                os.replace(temporary, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise StorageError(f"cannot write {key}: {exc.strerror or exc}") from exc

    def get(self, key: str) -> StoredFile | None:
        """The file's path and size, or None."""
        path = self.path_of(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc.strerror or exc}") from exc
        return StoredFile(path, None, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))

    def read(self, key: str) -> bytes:
        """The file's bytes."""
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None
        except OSError as exc:
            raise StorageError(f"cannot read {key}: {exc.strerror or exc}") from exc

    def delete(self, key: str) -> None:
        """Remove the file; a missing one is fine."""
        try:
            self.path_of(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc.strerror or exc}") from exc

    def all_keys(self) -> Iterator[tuple[str, datetime]]:
        """Every key-named file under the root (one removed while listing is left out)."""
        try:
            if not self.root.is_dir():
                return
            for folder in sorted(self.root.iterdir()):
                if not folder.is_dir():
                    continue
                for entry in sorted(folder.iterdir()):
                    if is_key(entry.name) and entry.name[:2] == folder.name:
                        try:
                            stat = entry.stat()
                        except FileNotFoundError:
                            continue  # deleted since the folder was read
                        yield entry.name, datetime.fromtimestamp(stat.st_mtime, UTC)
        except OSError as exc:
            raise StorageError(f"cannot list {self.root}: {exc.strerror or exc}") from exc


class S3Storage:
    """Objects in an S3 bucket (AWS or any S3-compatible store), named by their keys."""

    name = "s3"

    def __init__(self, bucket: str, endpoint_url: str = "", region: str = "") -> None:
        """A client for the bucket; credentials come the usual AWS way (environment, files)."""
        import boto3  # only deployments on S3 need it
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=BotoConfig(
                connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}
            ),
        )

    def failed(self, action: str, key: str, exc: Exception) -> StorageError:
        """A StorageError naming what failed."""
        return StorageError(f"cannot {action} {key} in bucket {self.bucket}: {exc}")

    def put(self, key: str, data: bytes) -> None:
        """Upload the object with its content type and immutable caching."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=checked(key),
                Body=data,
                ContentType=content_type_of(key),
                CacheControl=IMMUTABLE,
            )
        except (BotoCoreError, ClientError) as exc:
            raise self.failed("write", key, exc) from exc

    def get(self, key: str) -> StoredFile | None:
        """The object's bytes, or None."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=checked(key))
            data = reply["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self.failed("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self.failed("read", key, exc) from exc
        return StoredFile(None, data, len(data), reply["LastModified"])

    def read(self, key: str) -> bytes:
        """The object's bytes."""
        stored = self.get(key)
        if stored is None or stored.data is None:
            raise KeyError(key)
        return stored.data

    def delete(self, key: str) -> None:
        """Delete the object (S3 answers the same when there is none)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=checked(key))
        except (BotoCoreError, ClientError) as exc:
            raise self.failed("delete", key, exc) from exc

    def all_keys(self) -> Iterator[tuple[str, datetime]]:
        """Every key-named object in the bucket."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            for page in pages:
                for item in page.get("Contents", []):
                    if is_key(item["Key"]):
                        yield item["Key"], item["LastModified"]
        except (BotoCoreError, ClientError) as exc:
            raise self.failed("list", "objects", exc) from exc


def make_storage(config: Any) -> Storage:
    """The storage MEDIA_STORAGE names, from the app's config."""
    if config["MEDIA_STORAGE"] == "s3":
        return S3Storage(
            config["MEDIA_S3_BUCKET"], config["MEDIA_S3_ENDPOINT_URL"], config["MEDIA_S3_REGION"]
        )
    return FilesystemStorage(config["MEDIA_ROOT"])


def media_storage(app: Flask | None = None) -> Storage:
    """The app's storage, made on first use (in each process: gunicorn forks first)."""
    app = app or current_app
    storage: Storage | None = app.extensions.get(EXTENSION_KEY)
    if storage is None:
        storage = app.extensions[EXTENSION_KEY] = make_storage(app.config)
    return storage
