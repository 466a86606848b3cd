"""import checks every record, names the line of the first bad one, and then writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from blogapi.backup.export import count_rows
from blogapi.db.models import post_tags
from blogapi.extensions import db
from tests.support.apps import make_app
from tests.support.cli import assert_one_line_error, cli, create_user

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
    """A small valid export: 4 users, 30 tags, 12 posts, as parsed records."""
    app = make_app()
    runner = app.test_cli_runner()
    create_user(runner, "root", "admin")
    assert cli(runner, "seed", "--users", "3", "--posts", "12", "--seed", "5").exit_code == 0
    result = runner.invoke(args=["export", "-"])
    assert result.exit_code == 0
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
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
    "a future format": (edit("post", 6, format=3), "format 3 is not one this blogapi reads"),
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
    "a lost record": (drop("post"), "the file has 11 post records but its header says 12"),
    "a missing header": (drop("header", 0), "line 1: not a blogapi export"),
    "a bad header": (edit("header", counts={"comments": 3}), "line 1: bad header record"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_record_is_named_by_its_line_and_nothing_is_imported(
    app, runner, tmp_path, export_lines, case
):
    corrupt, complaint = CASES[case]
    lines = [dict(record) for record in export_lines]
    number = corrupt(lines)
    path = tmp_path / "broken.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in lines))
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert complaint in message
    if number:
        assert f": line {number}: " in message
    assert message.endswith("Nothing was imported.\n")
    with app.app_context():
        assert set(count_rows(db.session.connection()).values()) == {0}


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


def test_a_bad_last_line_undoes_what_was_already_written(app, runner, tmp_path, export_lines):
    lines = [dict(record) for record in export_lines]
    path = tmp_path / "late.jsonl"
    text = "".join(json.dumps(record) + "\n" for record in lines)
    path.write_text(text + "{broken\n")
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert f"line {len(lines) + 1}: not valid JSON" in message
    with app.app_context():
        assert set(count_rows(db.session.connection()).values()) == {0}


def test_import_refuses_a_database_that_is_not_empty(app, runner, tmp_path, export_lines):
    path = tmp_path / "blog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in export_lines))
    create_user(runner, "someone", "author")
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert "the database is not empty (it has 1 users" in message
    with app.app_context():
        assert count_rows(db.session.connection())["user"] == 1


def test_a_format_1_file_imports_with_each_tags_one_name(app, runner, tmp_path, export_lines):
    lines = [dict(record) for record in export_lines]
    for record in lines:
        record["format"] = 1  # before posts carried their own spelling of each tag
        record.pop("tag_names", None)
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in lines))
    assert cli(runner, "import", str(path)).exit_code == 0
    names = {r["id"]: r["name"] for r in lines if r["type"] == "tag"}
    expected = sorted(
        (r["id"], tag, names[tag]) for r in lines if r["type"] == "post" for tag in r["tags"]
    )
    with app.app_context():
        assert sorted(tuple(row) for row in db.session.execute(select(post_tags))) == expected
