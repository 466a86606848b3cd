"""An admin looks after uploaded media from the command line: lists them, prunes files that no
media names (after a crash, or a removal that failed), and remakes variants after changing
MEDIA_WIDTHS; on a folder and on S3, as `manage.py media …` would run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from PIL import Image as PILImage

import config
from blogapi import create_app
from blogapi.extensions import db
from blogapi.media.keys import new_key
from blogapi.media.maintenance import regenerate
from blogapi.media.storage import FilesystemStorage, StorageError, media_storage
from devtools.live import LOOPBACK_SITE, ROOT, production_env
from tests.support.accounts import sign_up
from tests.support.cli import assert_one_line_error, assert_usage_error, cli, on_a_terminal
from tests.support.databases import fresh_database, manage, suite_admin_url, upgrade
from tests.support.media import (
    API,
    file_path,
    gradient_jpeg,
    image_bytes,
    key_of,
    media_count,
    opened,
    stored_keys,
    upload,
)
from tests.support.s3 import s3_env, s3_settings


def uploaded(client, account, data: bytes, filename: str = "photo.jpg") -> dict[str, Any]:
    """The media a successful upload created."""
    reply = upload(client, account, data, filename)
    assert reply.status_code == 201, reply.get_json()
    media: dict[str, Any] = reply.get_json()
    return media


def keys_of(media: dict[str, Any]) -> set[str]:
    """The storage keys of a media's image and variants, from its URLs."""
    return {key_of(media["url"]), *(key_of(v["url"]) for v in media["variants"])}


def crash_leftovers(app: Flask, count: int) -> list[str]:
    """Files stored for an upload whose row was never committed (the process died between)."""
    keys = [new_key("jpg") for _ in range(count)]
    with app.app_context():
        for key in keys:
            media_storage().put(key, image_bytes())
    return keys


def age(app: Flask, key: str, minutes: int) -> None:
    """Make a stored file look `minutes` old (a folder's file only: S3 sets its own times)."""
    with app.app_context():
        storage = media_storage()
        assert isinstance(storage, FilesystemStorage)
        then = time.time() - minutes * 60
        os.utime(storage.path_of(key), (then, then))


@contextmanager
def failing(app: Flask, method: str) -> Iterator[list[str]]:
    """The app's storage failing every `method` call (the keys it was called with are listed)."""
    with app.app_context():
        storage = media_storage()
    calls: list[str] = []

    def fail(*args: Any) -> None:
        key = args[0] if args else "anything"
        calls.append(key)
        raise StorageError(f"cannot {method} {key}: the storage is down")

    setattr(storage, method, fail)
    try:
        yield calls
    finally:
        delattr(storage, method)


def served_media(client, account, media_id: int) -> dict[str, Any]:
    """GET /media/{id}."""
    reply = client.get(f"{API}/media/{media_id}", headers=account.headers)
    assert reply.status_code == 200
    media: dict[str, Any] = reply.get_json()
    return media


@pytest.mark.parametrize("command", ["list", "prune", "regenerate"])
def test_every_media_command_explains_itself(runner, command):
    assert f"  {command} " in cli(runner, "media", "--help").stdout
    result = cli(runner, "media", command, "--help")
    assert result.exit_code == 0
    usage, _, rest = result.stdout.partition("\n\n")
    assert usage.startswith("Usage: ") and f"media {command}" in usage
    summary = rest.splitlines()[0].strip()
    assert summary.endswith(".") and len(summary) > 15


# --- media list ---------------------------------------------------------------------------


def test_list_shows_every_upload_as_a_table_or_as_the_apis_json(
    app, client, runner, author, make_account
):
    app.config["SITE_URL"] = "http://localhost"  # absolute URLs outside a request, as in production
    heron = uploaded(client, author, gradient_jpeg((2000, 1000)), "heron.jpg")
    icon = uploaded(client, author, image_bytes("PNG", (64, 48)), "icon.png")
    other = make_account("author")
    theirs = uploaded(client, other, image_bytes("WEBP", (120, 90)), "Their file.webp")

    result = cli(runner, "media", "list")
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    assert header.split() == [
        "ID",
        "UPLOADER",
        "TYPE",
        "PIXELS",
        "BYTES",
        "CREATED",
        "(UTC)",
        "FILENAME",
    ]
    assert [line.split()[:5] for line in lines] == [
        [str(heron["id"]), author.username, "image/jpeg", "2000x1000", str(heron["bytes"])],
        [str(icon["id"]), author.username, "image/png", "64x48", str(icon["bytes"])],
        [str(theirs["id"]), other.username, "image/webp", "120x90", str(theirs["bytes"])],
    ]
    assert lines[2].endswith("  Their file.webp")
    assert lines[0].index("heron.jpg") == header.index("FILENAME")  # columns line up

    mine = cli(runner, "media", "list", "--user", author.email.upper(), "--json")
    assert mine.exit_code == 0, mine.output
    editor = make_account("editor")
    assert json.loads(mine.stdout) == [
        served_media(client, editor, heron["id"]),
        served_media(client, editor, icon["id"]),
    ]
    everyone = json.loads(cli(runner, "media", "list", "--json").stdout)
    assert [item["id"] for item in everyone] == [heron["id"], icon["id"], theirs["id"]]


def test_list_of_an_unknown_user_or_with_a_bad_option_fails_in_one_line(runner, author):
    assert cli(runner, "media", "list", "--user", author.username).stdout.count("\n") == 1
    unknown = cli(runner, "media", "list", "--user", "ghost")
    assert assert_one_line_error(unknown) == "Error: no user named 'ghost'\n"
    assert_usage_error(cli(runner, "media", "list", "everything"))
    assert_usage_error(cli(runner, "media", "list", "--sort", "size"))
    assert_usage_error(cli(runner, "media", "prune", "--older-than", "-1"))
    assert_usage_error(cli(runner, "media", "regenerate", "--id", "zero"))
    assert_usage_error(cli(runner, "media", "regenerate", "--id", "0"))


# --- media prune --------------------------------------------------------------------------


def test_prune_removes_old_files_no_media_names_and_keeps_young_ones_and_medias_own(
    app, client, runner, author, storage
):
    media = uploaded(client, author, gradient_jpeg((1000, 800)))
    leftovers = crash_leftovers(app, 3)
    before = stored_keys(app)
    assert before == keys_of(media) | set(leftovers)

    # Right after the crash every leftover is young: it could be an upload in flight.
    young = cli(runner, "media", "prune")
    assert young.exit_code == 0, young.output
    assert young.stdout == (
        "Removed 0 files that no media names; kept 3 such files younger than 60 minutes; "
        "3 files belong to media.\n"
    )
    assert stored_keys(app) == before

    if storage == "filesystem":  # an hour later (for two of them)
        age(app, leftovers[0], 61)
        age(app, leftovers[1], 24 * 60)
        removed, kept = sorted(leftovers[:2]), leftovers[2:]
        result = cli(runner, "media", "prune")
    else:  # S3 keeps its own times: call every file old enough
        removed, kept = sorted(leftovers), []
        result = cli(runner, "media", "prune", "--older-than", "0")
    assert result.exit_code == 0, result.output
    *lines, total = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["Removed", key] for key in removed]
    assert total.startswith(f"Removed {len(removed)} files that no media names; kept {len(kept)}")
    assert stored_keys(app) == keys_of(media) | set(kept)
    assert media_count(app) == 1
    for url in [media["url"], *(v["url"] for v in media["variants"])]:
        assert client.get(file_path(url)).status_code == 200


def test_a_dry_run_says_what_it_would_remove_and_changes_nothing(
    app, client, runner, author, storage
):
    uploaded(client, author, image_bytes())
    leftovers = crash_leftovers(app, 2)
    before = stored_keys(app)
    result = cli(runner, "media", "prune", "--dry-run", "--older-than", "0")
    assert result.exit_code == 0, result.output
    *lines, total = result.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["Would", "remove", key] for key in sorted(leftovers)
    ]
    assert total.startswith("Would remove 2 files that no media names (dry run: nothing removed)")
    assert stored_keys(app) == before


def test_files_a_failed_removal_left_behind_are_pruned(app, client, runner, author, storage):
    kept = uploaded(client, author, image_bytes("PNG", (900, 500), color=(1, 2, 3)))
    gone = uploaded(client, author, gradient_jpeg((900, 500)))
    with failing(app, "delete") as calls:
        deleted = client.delete(f"{API}/media/{gone['id']}", headers=author.headers)
    assert deleted.status_code == 204  # the row is gone; its files could not be removed
    assert set(calls) == keys_of(gone)
    assert stored_keys(app) == keys_of(kept) | keys_of(gone)

    result = cli(runner, "media", "prune", "--older-than", "0")
    assert result.exit_code == 0, result.output
    assert f"Removed {len(keys_of(gone))} files that no media names" in result.stdout
    assert stored_keys(app) == keys_of(kept)


def test_a_removal_that_fails_during_prune_is_named_and_exits_1(app, client, runner, storage):
    leftover = crash_leftovers(app, 1)[0]
    with failing(app, "delete"):
        result = cli(runner, "media", "prune", "--older-than", "0")
    assert result.exit_code == 1
    assert f"Could not remove {leftover}: cannot delete {leftover}" in result.stderr
    assert result.stderr.endswith("Error: 1 file could not be removed\n")
    assert "Removed 0 files that no media names" in result.stdout
    assert stored_keys(app) == {leftover}
    assert cli(runner, "media", "prune", "--older-than", "0").exit_code == 0
    assert stored_keys(app) == set()


def test_media_whose_files_are_missing_are_named_and_kept(app, client, runner, author, storage):
    whole = uploaded(client, author, gradient_jpeg((800, 600)), "whole.jpg")
    broken = uploaded(client, author, gradient_jpeg((1600, 900)), "broken.jpg")
    lost = sorted([key_of(broken["url"]), key_of(broken["variants"][1]["url"])])
    with app.app_context():
        for key in lost:
            media_storage().delete(key)  # someone emptied part of the folder or bucket
    leftover = crash_leftovers(app, 1)[0]

    result = cli(runner, "media", "prune", "--older-than", "0")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(f"Removed {leftover} ")
    assert result.stderr.splitlines() == [
        *(f"media {broken['id']}: file {key} is missing from the storage" for key in lost),
        f"Error: files of media {broken['id']} are missing from the storage "
        "(restore them from a backup)",
    ]
    assert media_count(app) == 2  # reported, never deleted
    assert stored_keys(app) == keys_of(whole) | (keys_of(broken) - set(lost))


def test_prune_keeps_the_files_of_an_upload_committed_while_it_lists(
    app, client, runner, author, storage
):
    """Even with --older-than 0: rows are read again before anything is removed."""
    deleted = uploaded(client, author, image_bytes(color=(9, 9, 9)))
    with app.app_context():
        storage_ = media_storage()
    listing = storage_.all_keys
    during: list[dict[str, Any]] = []

    def all_keys_while_others_write():
        # Between prune's read of the rows and its listing: an upload commits, a media goes.
        during.append(uploaded(client, author, gradient_jpeg((900, 600))))
        client.delete(f"{API}/media/{deleted['id']}", headers=author.headers)
        yield from listing()

    storage_.all_keys = all_keys_while_others_write
    try:
        result = cli(runner, "media", "prune", "--older-than", "0")
    finally:
        del storage_.all_keys
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout.startswith("Removed 0 files that no media names")
    assert stored_keys(app) == keys_of(during[0])
    for url in [during[0]["url"], *(v["url"] for v in during[0]["variants"])]:
        assert client.get(file_path(url)).status_code == 200


def test_prune_says_so_in_one_line_when_the_storage_cannot_be_listed(app, runner, storage):
    with failing(app, "all_keys"):
        result = cli(runner, "media", "prune")
    message = assert_one_line_error(result)
    assert message.startswith("Error: media storage: cannot all_keys ")


def test_a_file_removed_while_the_folder_is_listed_is_left_out(tmp_path):
    storage = FilesystemStorage(tmp_path)
    first, second = "ab" + "0" * 30 + ".jpg", "ab" + "1" * 30 + ".png"
    storage.put(first, b"one")
    storage.put(second, b"two")
    listing = storage.all_keys()
    assert next(listing)[0] == first
    storage.delete(second)  # a concurrent delete, after the folder was read
    assert list(listing) == []


# --- media regenerate ---------------------------------------------------------------------


def test_regenerate_remakes_variants_at_new_widths_under_new_keys(
    app, client, runner, author, storage
):
    wide = uploaded(client, author, gradient_jpeg((2000, 1000)), "wide.jpg")
    small = uploaded(client, author, image_bytes("PNG", (600, 400)), "small.png")
    assert [v["width"] for v in wide["variants"]] == [320, 768, 1536]
    assert [v["width"] for v in small["variants"]] == [320]

    app.config["MEDIA_WIDTHS"] = (1000, 400, 3000)
    result = cli(runner, "media", "regenerate")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    assert result.stdout == (
        "Regenerated the variants of 2 media at widths 400, 1000, 3000: "
        "3 new files, 4 old files removed.\n"
    )

    wide_now = served_media(client, author, wide["id"])
    small_now = served_media(client, author, small["id"])
    assert [(v["width"], v["height"]) for v in wide_now["variants"]] == [(400, 200), (1000, 500)]
    assert [(v["width"], v["height"]) for v in small_now["variants"]] == [(400, 267)]
    assert {k: wide_now[k] for k in ("url", "sha256", "bytes")} == {
        k: wide[k] for k in ("url", "sha256", "bytes")
    }  # the image itself is as it was
    old = (keys_of(wide) | keys_of(small)) - {key_of(wide["url"]), key_of(small["url"])}
    new = (keys_of(wide_now) | keys_of(small_now)) - {key_of(wide["url"]), key_of(small["url"])}
    assert len(new) == 3 and not new & old
    assert stored_keys(app) == keys_of(wide_now) | keys_of(small_now)
    for media in (wide_now, small_now):
        for variant in media["variants"]:
            served = client.get(file_path(variant["url"]))
            assert served.status_code == 200
            assert served.headers["Content-Type"] == media["content_type"]
            assert opened(served.data).size == (variant["width"], variant["height"])
    for key in old:
        assert client.get(f"/media/{key}").status_code == 404


def test_regenerate_only_the_ids_given_and_refuse_unknown_ones(
    app, client, runner, author, storage
):
    first = uploaded(client, author, gradient_jpeg((1000, 500)))
    second = uploaded(client, author, gradient_jpeg((1200, 600)))
    app.config["MEDIA_WIDTHS"] = (500,)
    unknown = cli(runner, "media", "regenerate", "--id", str(first["id"]), "--id", "999")
    assert assert_one_line_error(unknown) == "Error: no media with id 999\n"
    assert served_media(client, author, first["id"]) == first  # nothing was done

    result = cli(runner, "media", "regenerate", "--id", str(second["id"]))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Regenerated the variants of 1 media at widths 500: 1 new")
    assert served_media(client, author, first["id"]) == first
    assert [v["width"] for v in served_media(client, author, second["id"])["variants"]] == [500]


def test_one_media_failing_does_not_stop_the_others_and_exits_1(
    app, client, runner, author, storage
):
    lost = uploaded(client, author, gradient_jpeg((1000, 600)), "lost.jpg")
    fine = uploaded(client, author, gradient_jpeg((1000, 500)), "fine.jpg")
    with app.app_context():
        media_storage().delete(key_of(lost["url"]))  # the image is gone, its variants are not
    app.config["MEDIA_WIDTHS"] = (250,)

    result = cli(runner, "media", "regenerate")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"media {lost['id']}: its file {key_of(lost['url'])} is missing from the storage",
        f"Error: 1 media could not be regenerated (ids {lost['id']})",
    ]
    assert result.stdout.startswith("Regenerated the variants of 1 media at widths 250:")
    assert served_media(client, author, lost["id"]) == lost  # unchanged
    assert [v["width"] for v in served_media(client, author, fine["id"])["variants"]] == [250]


def test_a_storage_failing_to_store_new_variants_changes_nothing(
    app, client, runner, author, storage
):
    media = uploaded(client, author, gradient_jpeg((1000, 500)))
    before = stored_keys(app)
    app.config["MEDIA_WIDTHS"] = (200, 600)
    with failing(app, "put") as calls:
        result = cli(runner, "media", "regenerate")
    assert result.exit_code == 1
    assert f"media {media['id']}: cannot put {calls[0]}: the storage is down" in result.stderr
    assert served_media(client, author, media["id"]) == media
    assert stored_keys(app) == before


def test_old_variants_that_cannot_be_removed_are_left_for_prune(
    app, client, runner, author, storage
):
    media = uploaded(client, author, gradient_jpeg((1000, 500)))
    old = [key_of(v["url"]) for v in media["variants"]]
    app.config["MEDIA_WIDTHS"] = (300,)
    with failing(app, "delete"):
        result = cli(runner, "media", "regenerate")
    assert result.exit_code == 0, result.output  # the media has its new variants
    assert result.stderr == (
        f"Left 2 old files that could not be removed, for `media prune`: {', '.join(old)}\n"
    )
    now = served_media(client, author, media["id"])
    assert [v["width"] for v in now["variants"]] == [300]
    assert stored_keys(app) == keys_of(now) | set(old)
    pruned = cli(runner, "media", "prune", "--older-than", "0")
    assert pruned.stdout.endswith(
        "Removed 2 files that no media names; kept 0 such files "
        "younger than 0 minutes; 2 files belong to media.\n"
    )
    assert stored_keys(app) == keys_of(now)


def test_a_media_deleted_while_its_variants_are_made_leaves_no_file(
    app, client, runner, author, storage
):
    media = uploaded(client, author, gradient_jpeg((1000, 500)))
    with app.app_context():
        storage_ = media_storage()
    put = storage_.put

    def put_while_the_owner_deletes(key: str, data: bytes) -> None:
        put(key, data)
        if not hasattr(storage_, "deleted"):
            storage_.deleted = client.delete(f"{API}/media/{media['id']}", headers=author.headers)

    storage_.put = put_while_the_owner_deletes
    app.config["MEDIA_WIDTHS"] = (200, 400)
    try:
        result = cli(runner, "media", "regenerate")
    finally:
        del storage_.put
    assert storage_.deleted.status_code == 204
    assert result.exit_code == 1
    assert f"media {media['id']}: it was changed or deleted meanwhile" in result.stderr
    assert stored_keys(app) == set()
    assert media_count(app) == 0


# --- the real commands ----------------------------------------------------------------------


def test_the_real_commands_list_prune_and_regenerate_with_a_progress_bar(tmp_path, storage):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        if storage == "s3":
            settings = s3_settings()
            env = s3_env(settings["MEDIA_S3_BUCKET"])
        else:
            settings = env = {"MEDIA_ROOT": str(tmp_path / "media")}
        app = create_app(config.TestingConfig(), SQLALCHEMY_DATABASE_URI=url, **settings)
        client = app.test_client()
        writer = sign_up(client, app, "writer", "author")
        photo = uploaded(client, writer, gradient_jpeg((1800, 1200)), "photo.jpg")
        leftover = crash_leftovers(app, 1)[0]
        with app.app_context():
            db.engine.dispose()  # the database is dropped at the end: no open connections

        listed = manage(url, "media", "list", "--json", **env)
        assert (listed.returncode, listed.stderr) == (0, ""), listed.stderr
        [item] = json.loads(listed.stdout)
        assert item["url"] == f"{LOOPBACK_SITE}/media/{key_of(photo['url'])}"
        assert item["sha256"] == photo["sha256"]
        table = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "blogapi",
                "media",
                "list",
                "--user",
                "writer",
            ],
            cwd=ROOT,
            env=production_env(url, **env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert table.returncode == 0, table.stderr
        assert table.stdout.splitlines()[1].split()[:4] == [
            str(photo["id"]),
            "writer",
            "image/jpeg",
            "1800x1200",
        ]

        pruned = manage(url, "media", "prune", "--older-than", "0", **env)
        assert (pruned.returncode, pruned.stderr) == (0, ""), pruned.stderr
        assert pruned.stdout.startswith(f"Removed {leftover} (stored ")
        assert stored_keys(app) == keys_of(photo)

        regenerated, screen = on_a_terminal(
            ["media", "regenerate"], production_env(url, MEDIA_WIDTHS="600,1200", **env)
        )
        assert regenerated.returncode == 0, regenerated.stderr
        assert b"Regenerating variants" in screen and b"100%" in screen
        assert b"Regenerated the variants of 1 media at widths 600, 1200: 2 new files" in screen
        with app.app_context():
            now = served_media(client, writer, photo["id"])
            db.engine.dispose()
        assert [(v["width"], v["height"]) for v in now["variants"]] == [(600, 400), (1200, 800)]
        assert stored_keys(app) == keys_of(now)
        with app.app_context():
            db.engine.dispose()


def test_two_regenerations_at_once_leave_one_set_of_variants_and_no_stray_file(
    app, client, runner, author, storage
):
    media = uploaded(client, author, gradient_jpeg((1000, 500)))
    with app.app_context():
        storage_ = media_storage()
    put = storage_.put
    others: list[Any] = []

    def put_while_another_admin_regenerates(key: str, data: bytes) -> None:
        put(key, data)
        if not others:  # another `media regenerate`, in a session of its own, finishes first
            others.append(None)
            with app.app_context():
                others[0] = regenerate(media["id"], [450])

    storage_.put = put_while_another_admin_regenerates
    app.config["MEDIA_WIDTHS"] = (200, 400)
    try:
        result = cli(runner, "media", "regenerate")
    finally:
        del storage_.put
    assert others[0].widths == (450,)
    assert result.exit_code == 1
    assert f"media {media['id']}: it was changed or deleted meanwhile" in result.stderr
    now = served_media(client, author, media["id"])
    assert [v["width"] for v in now["variants"]] == [450]
    assert stored_keys(app) == keys_of(now)


def animated_gif(size: tuple[int, int], colours: list[tuple[int, int, int]]) -> bytes:
    """A looping GIF animation, one frame per colour."""
    frames = [PILImage.new("RGB", size, colour) for colour in colours]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)
    return out.getvalue()


def test_regenerate_keeps_each_formats_transparency_and_frames(app, client, runner, author):
    translucent = uploaded(
        client, author, image_bytes("PNG", (800, 400), "RGBA", (10, 20, 30, 100)), "glass.png"
    )
    animation = uploaded(
        client, author, animated_gif((800, 400), [(255, 0, 0), (0, 0, 255), (0, 255, 0)])
    )
    webp = uploaded(client, author, image_bytes("WEBP", (800, 400), color=(5, 90, 5)), "leaf.webp")
    grey = uploaded(client, author, image_bytes("JPEG", (800, 400), "L", 128), "grey.jpg")
    app.config["MEDIA_WIDTHS"] = (200,)
    assert cli(runner, "media", "regenerate").exit_code == 0

    def variant(media: dict[str, Any]) -> PILImage.Image:
        [only] = served_media(client, author, media["id"])["variants"]
        assert (only["width"], only["height"]) == (200, 100)
        image = PILImage.open(io.BytesIO(client.get(file_path(only["url"])).data))
        assert image.format == {"image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}.get(
            media["content_type"], "JPEG"
        )
        return image

    assert variant(translucent).convert("RGBA").getpixel((5, 5)) == (10, 20, 30, 100)
    frames = variant(animation)
    assert frames.n_frames == 3 and frames.info["loop"] == 0
    assert [frames.seek(n) or frames.convert("RGB").getpixel((5, 5)) for n in range(3)] == [
        (255, 0, 0),
        (0, 0, 255),
        (0, 255, 0),
    ]
    assert variant(webp).size == (200, 100)
    assert variant(grey).mode == "L"
