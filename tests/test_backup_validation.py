"""import checks every record, names the line of the first bad one, and then writes nothing."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select

from blogapi.backup.export import count_rows
from blogapi.backup.schemas import FORMAT
from blogapi.db.models import Post, PostRevision, post_tags
from blogapi.extensions import db
from blogapi.media.storage import media_storage
from blogapi.posts.revisions.storage import body_of, tag_names
from blogapi.posts.tags import tag_slug
from tests.support.accounts import sign_up
from tests.support.apps import dispose, make_app
from tests.support.backup import assert_import_refused
from tests.support.cli import assert_one_line_error, cli, create_user
from tests.support.media import gradient_jpeg, image_bytes, stored_keys, upload
from tests.support.posts import API, new_post
from tests.support.s3 import s3_settings

Lines = list[dict]
# Hashes as a crafted file could carry them: cheap to write, each login attempt paying the
# cost they name. The suite's hasher makes argon2id at m=256, t=1, p=1 (bcrypt: 12 rounds).
ARGON2 = (
    "$argon2id$v=19$m={m},t={t},p={p}"
    "$ac3Z25tTaq3VupdSynkPAQ$DWsWCpEqXG7m/BZZ9QGyL2KQRdu2rhf/I41kaklka3c"
)
BCRYPT_15 = "$2b$15$FyjqCEC9/.H8HgnAwU4sS.0KSFHFU6d5h9SRPdVyscQ6tvZ75UpTm"


@pytest.fixture(scope="module")
def export_lines() -> Lines:
    """A small valid export: 5 users, 30 tags, 3 media (5 files: a photo with 2 variants, a
    small JPEG, a PNG), 14 posts (one in the trash, one with the photo as its feature image)
    and 17 revisions, as parsed records: each seeded post's first, then the 5 of the editor's
    two posts last."""
    app = make_app()
    runner = app.test_cli_runner()
    create_user(runner, "root", "admin")
    assert cli(runner, "seed", "--users", "3", "--posts", "12", "--seed", "5").exit_code == 0
    client = app.test_client()
    editor = sign_up(client, app, "editor", "editor")
    media = [
        upload(client, editor, data, name).get_json()
        for data, name in (
            (gradient_jpeg((800, 600)), "photo.jpg"),
            (image_bytes("JPEG", (100, 80)), "small.jpg"),
            (image_bytes("PNG", (100, 80)), "dot.png"),
        )
    ]
    assert [len(m["variants"]) for m in media] == [2, 0, 0]
    kept = new_post(
        client, editor, title="Kept", body="One.", tags=["Python"], feature_image_id=media[0]["id"]
    )
    gone = new_post(client, editor, title="Gone", body="One.")
    for post, body in ((kept, "Two."), (kept, "Three."), (gone, "Two.")):
        edited = client.patch(
            f"{API}/posts/{post['id']}", json={"body": body}, headers=editor.headers
        )
        assert edited.status_code == 200
    assert client.delete(f"{API}/posts/{gone['id']}", headers=editor.headers).status_code == 204
    result = runner.invoke(args=["export", "-"])
    assert result.exit_code == 0
    dispose(app)
    return [json.loads(line) for line in result.stdout_bytes.splitlines()]


def line_of(lines: Lines, kind: str, nth: int = 0) -> int:
    """The 1-based line number of the nth record of a kind."""
    return [n for n, record in enumerate(lines, 1) if record["type"] == kind][nth]


def edit(kind: str, nth: int = 0, **changes: object) -> Callable[[Lines], int]:
    """A corruption: change fields of one record; returns its line number."""

    def corrupt(lines: Lines) -> int:
        number = line_of(lines, kind, nth)
        lines[number - 1].update(changes)
        return number

    return corrupt


def copy_of(kind: str, field: str, source_nth: int, nth: int) -> Callable[[Lines], int]:
    """A corruption: give one record the same value of `field` as an earlier one."""

    def corrupt(lines: Lines) -> int:
        number = line_of(lines, kind, nth)
        value = lines[line_of(lines, kind, source_nth) - 1][field]
        lines[number - 1][field] = value.upper() if isinstance(value, str) else value
        return number

    return corrupt


def drop(kind: str, nth: int = -1) -> Callable[[Lines], int]:
    """A corruption: lose one record (a cut-short or edited file)."""

    def corrupt(lines: Lines) -> int:
        del lines[line_of(lines, kind, nth) - 1]
        return 0

    return corrupt


def swap(kind: str, first: int, second: int) -> Callable[[Lines], int]:
    """A corruption: two records of a kind in each other's place; returns the later line."""

    def corrupt(lines: Lines) -> int:
        a, b = line_of(lines, kind, first), line_of(lines, kind, second)
        lines[a - 1], lines[b - 1] = lines[b - 1], lines[a - 1]
        return b

    return corrupt


def variant(nth: int, **changes: object) -> Callable[[Lines], int]:
    """A corruption: change fields of the first variant of the nth media record."""

    def corrupt(lines: Lines) -> int:
        number = line_of(lines, "media", nth)
        first, *others = lines[number - 1]["variants"]
        lines[number - 1]["variants"] = [{**first, **changes}, *others]  # the fixture's unchanged
        return number

    return corrupt


def shared_key(lines: Lines) -> int:
    """A corruption: the second media under the key of the first one's variant."""
    number = line_of(lines, "media", 1)
    lines[number - 1]["key"] = lines[line_of(lines, "media", 0) - 1]["variants"][0]["key"]
    return number


def same_upload(lines: Lines) -> int:
    """A corruption: the second media made of the same uploaded bytes as the first."""
    number = line_of(lines, "media", 1)
    lines[number - 1]["source_sha256"] = lines[line_of(lines, "media", 0) - 1]["source_sha256"]
    return number


def file_twice(lines: Lines) -> int:
    """A corruption: the first file record in the second one's place."""
    number = line_of(lines, "file", 1)
    lines[number - 1] = dict(lines[line_of(lines, "file", 0) - 1])
    return number


def flipped_byte(lines: Lines) -> int:
    """A corruption: one byte of the first file changed (its size unchanged)."""
    number = line_of(lines, "file", 0)
    data = bytearray(base64.b64decode(lines[number - 1]["data"]))
    data[len(data) // 2] ^= 0x01
    lines[number - 1]["data"] = base64.b64encode(bytes(data)).decode()
    return number


def missing_file(lines: Lines) -> int:
    """A corruption: the last file left out, and the header's count of files made to agree."""
    drop("file", -1)(lines)
    counts = lines[0]["counts"]
    lines[0]["counts"] = {**counts, "file": counts["file"] - 1}  # the fixture's unchanged
    return 0


def revision_in_format_2(lines: Lines) -> int:
    """A corruption: a file that says it is format 2 (before revisions) but holds one."""
    lines[:] = without_media(lines)
    for record in lines:
        record["format"] = 2
        record.pop("deleted_at", None)
        record.pop("deleted_by_id", None)
    return line_of(lines, "revision")


CASES = {
    "a user with an unknown field": (edit("user", 1, is_superuser=True), "is_superuser"),
    "a bad email": (edit("user", 2, email="not an email"), "email: Not a valid email"),
    "a bad role": (edit("user", 1, role="overlord"), "role: Must be one of"),
    "an unknown password scheme": (edit("user", password_hash="plaintext"), "password_hash"),
    "a bcrypt cost above ours": (
        edit("user", 2, password_hash=BCRYPT_15),
        "password_hash: bcrypt rounds 15 is above this server's 12.",
    ),
    "an argon2 memory cost above ours": (
        edit("user", 1, password_hash=ARGON2.format(m=262144, t=1, p=1)),
        "argon2 memory_cost 262144 is above this server's 256.",
    ),
    "argon2 passes above ours": (
        edit("user", 3, password_hash=ARGON2.format(m=256, t=40, p=1)),
        "argon2 rounds 40 is above this server's 1.",
    ),
    "argon2 lanes above ours": (
        edit("user", 0, password_hash=ARGON2.format(m=256, t=1, p=8)),
        "argon2 parallelism 8 is above this server's 1.",
    ),
    "a malformed argon2 hash": (
        edit("user", 1, password_hash="$argon2id$v=19$m=lots"),
        "Not a well-formed argon2 hash.",
    ),
    "a time without its zone": (edit("user", created_at="2026-01-01T10:00:00"), "timezone"),
    "an id given as text": (edit("tag", 3, id="4"), "id: Not a valid integer"),
    "a negative id": (edit("post", 2, id=-5), "id: Must be greater than or equal to 1"),
    "an invalid slug": (edit("post", 4, slug="Not A Slug"), "slug: Not a valid slug"),
    "an empty title": (edit("post", 5, title=""), "title: Length must be between 1 and 200"),
    "a future format": (
        edit("post", 6, format=FORMAT + 1),
        f"format {FORMAT + 1} is not one this blogapi reads",
    ),
    "an unknown record type": (edit("tag", 2, type="comment"), "unknown record type 'comment'"),
    "a duplicate id": (copy_of("post", "id", 0, 3), "post 1 is already on line"),
    "a username taken in another case": (
        copy_of("user", "username", 0, 2),
        "username 'ROOT' is already used on line 2",
    ),
    "a dangling author": (edit("post", 7, author_id=99), "author_id refers to user 99"),
    "more tag names than tags": (
        edit("post", 3, tag_names=["a"] * 11),
        "tag_names: There must be one name for each tag id.",
    ),
    "an unknown tag": (
        edit("post", 11, tags=[1, 999], tag_names=["a", "b"]),
        "tags refers to tag 999",
    ),
    "a lost record": (drop("user", 0), "the file has 4 user records but its header says 5"),
    "a missing header": (drop("header", 0), "line 1: not a blogapi export"),
    "a bad header": (edit("header", counts={"comments": 3}), "line 1: bad header record"),
    "an id too large for the database": (
        edit("post", 0, id=2**31),
        "id: Must be greater than or equal to 1 and less than or equal to 2147483647.",
    ),
    "a trashed post without who trashed it": (
        edit("post", -1, deleted_by_id=None),
        "deleted_by_id: A post in the trash has both deleted_at and deleted_by_id",
    ),
    "a post trashed by nobody known": (
        edit("post", -1, deleted_by_id=77),
        "deleted_by_id refers to user 77",
    ),
    "a trash time without its zone": (
        edit("post", -1, deleted_at="2026-01-01T10:00:00"),
        "deleted_at: Give a timezone",
    ),
    "a revision in its stored form": (edit("revision", -4, keyframe=1), "keyframe: Unknown field"),
    "a revision without a body": (
        edit("revision", -3, body=""),
        "body: Length must be between 1 and 200000.",
    ),
    "a revision body too long": (
        edit("revision", -5, body="x" * 200_001),
        "body: Length must be between 1 and 200000.",
    ),
    "a revision title too long": (
        edit("revision", -2, title="t" * 201),
        "title: Length must be between 1 and 200.",
    ),
    "a revision summary too long": (
        edit("revision", -2, summary="s" * 501),
        "summary: Length must be between 0 and 500.",
    ),
    "a revision with an invalid slug": (
        edit("revision", -4, slug="Kept!"),
        "slug: Not a valid slug",
    ),
    "revision number 0": (
        edit("revision", -5, number=0),
        "number: Must be greater than or equal to 1",
    ),
    "a revision number given as text": (
        edit("revision", -4, number="2"),
        "number: Not a valid integer.",
    ),
    "a revision number too large for the database": (
        edit("revision", -1, number=2**31),
        "number: Must be greater than or equal to 1 and less than or equal to 2147483647.",
    ),
    "too many revision tags": (
        edit("revision", -5, tags=[f"tag {n}" for n in range(11)]),
        "tags: Longer than maximum length 10.",
    ),
    "a revision tag name too long": (
        edit("revision", -5, tags=["t" * 41]),
        "tags.0: Length must be between 1 and 40.",
    ),
    "a revision tag of no letter or digit": (
        edit("revision", -5, tags=["!!"]),
        "A tag needs at least one letter or digit.",
    ),
    "two spellings of one revision tag": (
        edit("revision", -5, tags=["Python", "PYTHON"]),
        "tags: Two names are spellings of the same tag.",
    ),
    "revision tags as text": (edit("revision", -5, tags="Python"), "tags: Not a valid list."),
    "a revision of no known post": (
        edit("revision", -1, post_id=999),
        "post_id refers to post 999, which no earlier line defines",
    ),
    "a revision by nobody known": (
        edit("revision", -3, author_id=99),
        "author_id refers to user 99",
    ),
    "a revision time without its zone": (
        edit("revision", -3, created_at="2026-01-01T10:00:00"),
        "created_at: Give a timezone",
    ),
    "a revision given twice": (
        copy_of("revision", "number", -5, -4),
        "revision 1 of post 13 is already on line",
    ),
    "revisions out of order": (
        swap("revision", -4, -3),
        "revisions must be in (post_id, number) order",
    ),
    "a lost revision": (
        drop("revision", -4),
        "the file has 16 revision records but its header says 17",
    ),
    "a revision in a file from before revisions": (
        revision_in_format_2,
        "a format 2 file has no revision records (they came with format 3)",
    ),
    "a media key that is a path": (
        edit("media", 0, key="../../etc/passwd"),
        "key: Not a media key (32 lower-case hex digits, .jpg/.png/.gif/.webp).",
    ),
    "a media key in capitals": (edit("media", 1, key="A" * 32 + ".jpg"), "key: Not a media key"),
    "a media key with a NUL": (edit("media", 2, key="a" * 32 + ".png\x00"), "key: Not a media"),
    "a variant key of another type": (
        variant(0, key="b" * 32 + ".svg"),
        "variants.0.key: Not a media key",
    ),
    "an SVG": (edit("media", 2, content_type="image/svg+xml"), "content_type: Must be one of"),
    "a content type the keys do not name": (
        edit("media", 0, content_type="image/png"),
        "content_type: Every key's extension must name the media's content type.",
    ),
    "a width given as text": (edit("media", 1, width="100"), "width: Not a valid integer."),
    "a size in bytes with a fraction": (edit("media", 2, bytes=10.5), "bytes: Not a valid integer"),
    "a variant without its size": (variant(0, bytes=None), "variants.0.bytes: Field may not be"),
    "a variant with an unknown field": (variant(0, url="/x"), "variants.0.url: Unknown field."),
    "a sha256 that is not a digest": (
        edit("media", 0, sha256="abc"),
        "sha256: Not a SHA-256 digest in lower-case hex.",
    ),
    "variants as text": (edit("media", 0, variants="[]"), "variants: Not a valid list."),
    "a media by nobody known": (edit("media", 1, uploader_id=99), "uploader_id refers to user 99"),
    "a media id given twice": (copy_of("media", "id", 0, 2), "media 1 is already on line"),
    "two media under one key": (shared_key, "is already media 1's (line"),
    "one upload twice": (same_upload, "uploaded these bytes (source_sha256) already on line"),
    "a file that is not base64": (edit("file", 2, data="<svg/onload=alert(1)>"), "data: Not valid"),
    "an empty file": (edit("file", 3, data=""), "data: A file is never empty."),
    "a file under a path": (edit("file", 1, key="../x.jpg"), "key: Not a media key"),
    "a file of no media": (
        edit("file", 1, key="0" * 32 + ".jpg"),
        f"file {'0' * 32}.jpg belongs to no media on an earlier line",
    ),
    "a file given twice": (file_twice, "is already on line"),
    "a file of another media's size": (
        copy_of("file", "data", 4, 0),
        "is not the one media 1 describes: it has",
    ),
    "a file changed by one byte": (flipped_byte, "its SHA-256 is not the row's sha256"),
    "a missing file": (missing_file, "which the export does not hold"),
    "a lost file record": (drop("file", 2), "the file has 4 file records but its header says 5"),
    "a feature image of no media": (
        edit("post", -2, feature_image_id=99),
        "feature_image_id refers to media 99, which no earlier line defines",
    ),
    "media in a file from before media": (
        lambda lines: media_in_format_3(lines),
        "a format 3 file has no media records (they came with format 4)",
    ),
}


def media_in_format_3(lines: Lines) -> int:
    """A corruption: a file that says it is format 3 (before media) but holds some."""
    for record in lines:
        record["format"] = 3
        record.pop("feature_image_id", None)
    return line_of(lines, "media")


@pytest.mark.parametrize("case", CASES)
def test_a_bad_record_is_named_by_its_line_and_nothing_is_imported(
    app, runner, tmp_path, export_lines, case
):
    corrupt, complaint = CASES[case]
    lines = [dict(record) for record in export_lines]
    number = corrupt(lines)
    assert_import_refused(app, runner, tmp_path / "broken.jsonl", lines, complaint, number)
    assert stored_keys(app) == set()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "the file is empty"),
        ("{not json\n", "line 1: not valid JSON"),
        ("[1, 2]\n", "line 1: a record must be a JSON object"),
        ("\n\n\xff\n", "line 3: not valid JSON"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(runner, tmp_path, text, complaint):
    path = tmp_path / "junk.jsonl"
    path.write_bytes(text.encode("latin-1"))
    assert complaint in assert_one_line_error(cli(runner, "import", str(path)))


def test_a_bad_last_line_undoes_what_was_already_written(
    app, runner, tmp_path, export_lines, storage
):
    lines = [dict(record) for record in export_lines]
    path = tmp_path / "late.jsonl"
    text = "".join(json.dumps(record) + "\n" for record in lines)
    path.write_text(text + "{broken\n")
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert f"line {len(lines) + 1}: not valid JSON" in message
    with app.app_context():
        assert set(count_rows(db.session.connection()).values()) == {0}
    assert stored_keys(app) == set()  # the files stored before the bad line are gone again


def test_a_storage_that_refuses_the_files_is_one_line_and_nothing_imported(tmp_path, export_lines):
    app = make_app(**s3_settings("blogapi-no-such-bucket"))
    try:
        path = tmp_path / "blog.jsonl"
        path.write_text("".join(json.dumps(record) + "\n" for record in export_lines))
        message = assert_one_line_error(cli(app.test_cli_runner(), "import", str(path)))
        assert f": line {line_of(export_lines, 'file')}: cannot store file " in message
        assert "NoSuchBucket" in message and message.endswith("Nothing was imported.\n")
        with app.app_context():
            assert set(count_rows(db.session.connection()).values()) == {0}
    finally:
        dispose(app)


def emptied() -> None:
    """Delete every row of every table."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def test_files_the_storage_held_before_an_import_stay_whatever_becomes_of_it(
    app, runner, tmp_path, export_lines
):
    # A database moved to a new server, its media folder (or bucket) left where it was.
    path = tmp_path / "blog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in export_lines))
    assert cli(runner, "import", str(path)).exit_code == 0
    keys = {record["key"] for record in export_lines if record["type"] == "file"}
    assert stored_keys(app) == keys
    with app.app_context():
        emptied()  # as a new empty database on the same storage
        held = {key: media_storage().read(key) for key in keys}
    broken = tmp_path / "late.jsonl"
    broken.write_text(path.read_text() + "{broken\n")
    assert "not valid JSON" in assert_one_line_error(cli(runner, "import", str(broken)))
    assert stored_keys(app) == keys
    assert cli(runner, "import", str(path)).exit_code == 0
    with app.app_context():
        assert {key: media_storage().read(key) for key in keys} == held
        emptied()
        media_storage().put(sorted(keys)[0], image_bytes("PNG", (3, 3)))
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert f"already holds a different file under {sorted(keys)[0]}" in message
    assert stored_keys(app) == keys


def test_import_refuses_a_database_that_is_not_empty(app, runner, tmp_path, export_lines):
    path = tmp_path / "blog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in export_lines))
    create_user(runner, "someone", "author")
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert "the database is not empty (it has 1 users" in message
    with app.app_context():
        assert count_rows(db.session.connection())["user"] == 1


NEWER = ("media", "file", "webhook", "webhook_event", "webhook_delivery")  # than format 3


def without_media(lines: Lines) -> Lines:
    """The records as a format 3 export wrote them: no media, no files, no feature images (nor
    the webhook events the uploads made)."""
    old = []
    for record in copy.deepcopy(lines):
        if record["type"] in NEWER:
            continue
        record["format"] = 3
        if record["type"] == "header":
            for kind in NEWER:
                del record["counts"][kind]
        if record["type"] == "post":
            del record["feature_image_id"]
        old.append(record)
    return old


def test_a_format_3_file_imports_without_media(app, runner, tmp_path, export_lines):
    lines = without_media(export_lines)
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in lines))
    result = cli(runner, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "30 tags, 0 media, 0 media files, 14 posts, 17 revisions" in result.stdout
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).where(Post.feature_image_id.is_not(None))) == 0
        )
    assert stored_keys(app) == set()


def before_revisions(lines: Lines, version: int) -> Lines:
    """The records as a format 1 or 2 export wrote them: no revisions, nor a trash (format 1:
    nor the posts' own spelling of each tag)."""
    old = []
    for record in without_media(lines):
        if record["type"] == "revision":
            continue
        record["format"] = version
        if record["type"] == "header":
            del record["counts"]["revision"]
        if record["type"] == "post":
            del record["deleted_at"], record["deleted_by_id"]
            if version == 1:
                del record["tag_names"]
        old.append(record)
    return old


def test_a_format_1_file_imports_with_each_tags_one_name(app, runner, tmp_path, export_lines):
    lines = before_revisions(export_lines, 1)
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in lines))
    assert cli(runner, "import", str(path)).exit_code == 0
    names = {r["id"]: r["name"] for r in lines if r["type"] == "tag"}
    expected = sorted(
        (r["id"], tag, names[tag]) for r in lines if r["type"] == "post" for tag in r["tags"]
    )
    with app.app_context():
        assert sorted(tuple(row) for row in db.session.execute(select(post_tags))) == expected


def test_a_file_from_before_revisions_gives_each_post_its_revision_1(
    app, runner, tmp_path, export_lines
):
    lines = before_revisions(export_lines, 2)
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in lines))
    result = cli(runner, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "14 posts, 14 revisions, 0 revoked tokens" in result.stdout
    posts = [record for record in lines if record["type"] == "post"]
    with app.app_context():
        query = select(PostRevision).order_by(PostRevision.post_id, PostRevision.number)
        revisions = [
            (
                *(r.post_id, r.number, r.author_id, r.created_at, r.title, r.slug, r.summary),
                *(tag_names(r), body_of(r), r.keyframe),
            )
            for r in db.session.scalars(query)
        ]
        trashed = db.session.scalar(select(func.count()).where(Post.deleted_at.is_not(None)))
    # As migration 5e2d8a41c7b9 made them: each post as it is, saved by its author when it
    # was last updated, stored whole.
    assert revisions == [
        (
            *(p["id"], 1, p["author_id"], datetime.fromisoformat(p["updated_at"]), p["title"]),
            *(p["slug"], p["summary"], sorted(p["tag_names"], key=tag_slug), p["body"], None),
        )
        for p in posts
    ]
    assert trashed == 0
