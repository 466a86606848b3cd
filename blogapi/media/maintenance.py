"""Keeping the media storage and the media rows in step, for the `media` admin commands: list
media, remove stored files no row names, and remake variants after MEDIA_WIDTHS changed.

Files are stored before their row is committed (blogapi/media/service.py), so a file no row
names may be an upload in flight: only files older than the caller's limit are removed.
Variants are remade under new keys (a key's content never changes: it is cached for a year),
the row is committed, and only then are the old files removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import joinedload

from blogapi.db.models import Media, User, media_file_keys
from blogapi.extensions import db
from blogapi.media.images import Processed, variants_of
from blogapi.media.service import remove_files, store_new, variants_json
from blogapi.media.storage import StorageError, media_storage
from blogapi.timeutil import utcnow
from blogapi.web.errors import ApiError

BATCH = 1000


def media_list(user: User | None = None) -> list[Media]:
    """Every media (or one user's), oldest first, with its uploader loaded."""
    query = select(Media).options(joinedload(Media.uploader)).order_by(Media.id)
    if user is not None:
        query = query.where(Media.uploader_id == user.id)
    return list(db.session.scalars(query))


def named_keys() -> dict[str, int]:
    """Every key a media row names (its image and its variants), with the media's id."""
    named: dict[str, int] = {}
    query = select(Media.id, Media.key, Media.variants).execution_options(yield_per=BATCH)
    for media_id, key, variants in db.session.execute(query):
        named.update(dict.fromkeys(media_file_keys(key, variants), media_id))
    db.session.rollback()  # no transaction stays open while the storage is listed
    return named


@dataclass
class PruneReport:
    """What a prune found: files no media names (removed, or to remove on a dry run), those
    kept for being young, files that belong to media, and media whose files are missing."""

    orphans: list[tuple[str, datetime]] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # orphan key -> why it stayed
    young: int = 0
    named: int = 0
    missing: list[tuple[int, str]] = field(default_factory=list)  # media id, key

    @property
    def removed(self) -> list[tuple[str, datetime]]:
        """The orphans removed (or to remove), without those whose removal failed."""
        return [(key, when) for key, when in self.orphans if key not in self.failed]


def prune(older_than: timedelta, dry_run: bool = False, now: datetime | None = None) -> PruneReport:
    """Remove stored files that no media row names and that were stored at least `older_than`
    ago; report media rows whose files the storage does not hold. StorageError when the
    storage cannot be listed."""
    storage = media_storage()
    cutoff = (now or utcnow()) - older_than
    named = named_keys()
    unseen = dict(named)
    report, candidates = PruneReport(), []
    for key, modified in storage.all_keys():
        if key in named:
            report.named += 1
            unseen.pop(key, None)
        elif modified > cutoff:
            report.young += 1
        else:
            candidates.append((key, modified))
    if candidates or unseen:
        # Read the rows again: an upload or a regeneration may have committed since the first
        # read (its file is then named now), and a deletion removed its files (not missing).
        # A file still named but not listed is asked for by its key before it is called
        # missing: some S3-compatible stores list new objects late.
        now_named = named_keys()
        report.orphans = [(key, when) for key, when in candidates if key not in now_named]
        report.missing = sorted(
            (media_id, key)
            for key, media_id in unseen.items()
            if now_named.get(key) == media_id and storage.get(key) is None
        )
    if not dry_run:
        for key, _when in report.orphans:
            try:
                storage.delete(key)
            except StorageError as exc:
                report.failed[key] = str(exc)
    return report


class UnknownMedia(LookupError):
    """Media ids that name no media."""


def media_ids(wanted: Iterable[int] = ()) -> list[int]:
    """The ids asked for, in order and each once (UnknownMedia naming those that do not
    exist), or every media's id when none are asked for."""
    wanted = sorted(set(wanted))
    query = select(Media.id).order_by(Media.id)
    if wanted:
        query = query.where(Media.id.in_(wanted))
    found = list(db.session.scalars(query))
    db.session.rollback()
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        raise UnknownMedia(unknown)
    return found


class RegenerateFailed(Exception):
    """One media's variants could not be remade; the message says why (nothing changed)."""


@dataclass(frozen=True)
class Regenerated:
    """One media's variants remade: their widths, and old files that could not be removed."""

    widths: tuple[int, ...]
    removed: int
    left: tuple[str, ...]


def regenerate(media_id: int, widths: Sequence[int]) -> Regenerated:
    """Remake a media's variants at `widths` from its stored image, under new keys; commit,
    then remove the old variant files (those that cannot be removed are left for prune)."""
    media = db.session.get(Media, media_id, populate_existing=True)
    if media is None:
        raise RegenerateFailed("it was deleted meanwhile")
    key, old_json = media.key, media.variants
    old_keys = media.file_keys[1:]
    db.session.rollback()  # no transaction stays open while files are read and written
    processed = remade(key, widths)
    new_keys = store_variants(processed)
    try:
        changed = cast(
            CursorResult[Any],
            db.session.execute(
                update(Media)
                .where(Media.id == media_id, Media.variants == old_json)
                .values(variants=variants_json(processed, new_keys))
                .execution_options(synchronize_session=False)
            ),
        )
        if changed.rowcount != 1:
            raise RegenerateFailed("it was changed or deleted meanwhile; run the command again")
        db.session.commit()
    except BaseException:
        db.session.rollback()
        remove_files(new_keys)
        raise
    left = remove_files(old_keys)
    return Regenerated(
        tuple(v.width for v in processed.variants), len(old_keys) - len(left), tuple(left)
    )


def remade(key: str, widths: Sequence[int]) -> Processed:
    """The stored image under `key` with new variants; RegenerateFailed when it is missing or
    cannot be read."""
    try:
        data = media_storage().read(key)
    except KeyError:
        raise RegenerateFailed(f"its file {key} is missing from the storage") from None
    except StorageError as exc:
        raise RegenerateFailed(str(exc)) from None
    try:
        return variants_of(data, widths)
    except ApiError as exc:
        raise RegenerateFailed(f"its file {key} cannot be decoded: {exc.detail}") from None


def store_variants(processed: Processed) -> list[str]:
    """Store the variants under new keys, narrowest first; on a failure remove what was stored
    and raise RegenerateFailed."""
    try:
        return store_new(processed.variants, processed.extension)
    except StorageError as exc:
        raise RegenerateFailed(str(exc)) from None
