"""An admin exports the whole database and imports it into a new one, losing nothing."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from blogapi.db.models import Media, Post, PostRevision
from blogapi.extensions import db
from blogapi.media.storage import media_storage
from blogapi.posts.revisions.storage import body_of
from devtools.binaries import find_pg_bindir
from devtools.postgres_server import PostgresServer
from tests.support.accounts import PASSWORD, Account, bearer, login, sign_up
from tests.support.apps import app_on, dispose
from tests.support.cli import assert_one_line_error, cli, create_user
from tests.support.databases import all_rows, fresh_database, suite_admin_url, upgrade
from tests.support.media import gradient_jpeg, image_bytes, upload
from tests.support.posts import new_post
from tests.support.prerequisites import unavailable
from tests.support.s3 import s3_settings

API = "/api/v1"
SUMMARY = (
    "10 users, 32 tags, 4 media, 10 media files, 304 posts, 314 revisions, 2 revoked tokens,"
    " 1 personal access tokens and 5 pending webhook events"
)
# A long body whose small edits are stored as deltas against it.
LONG_BODY = "".join(f"Paragraph {n}: a line of the long post that stays.\n\n" for n in range(600))


def populate(runner, client) -> dict[str, str]:
    """A lived-in database: an admin, 300 seeded posts, a deactivated user, revoked tokens,
    and four posts with a history (one in the trash), two with a feature image."""
    create_user(runner, "root", "admin")
    seeded = cli(
        runner,
        *("seed", "--users", "7", "--posts", "300", "--seed", "11", "--password-stdin"),
        input=f"{PASSWORD}\n",
    )
    assert seeded.exit_code == 0, seeded.output
    revoked = login(client, "root").get_json()
    logout = client.post(
        f"{API}/auth/logout",
        headers={"Authorization": f"Bearer {revoked['access_token']}"},
        json={"refresh_token": revoked["refresh_token"]},
    )
    assert logout.status_code == 204
    live = login(client, "root").get_json()
    root = {"Authorization": f"Bearer {live['access_token']}"}
    pats = [
        client.post(f"{API}/auth/tokens", json={"name": name, "scopes": scopes}, headers=root)
        for name, scopes in (("phone", ["create", "media"]), ("old script", ["delete"]))
    ]
    assert [made.status_code for made in pats] == [201, 201]
    gone = pats[1].get_json()
    assert client.delete(f"{API}/auth/tokens/{gone['id']}", headers=root).status_code == 204
    contributor = json.loads(cli(runner, "list-users", "--role", "contributor", "--json").stdout)
    assert cli(runner, "deactivate", contributor[0]["username"]).exit_code == 0
    write_history(runner.app, client)
    return {
        "live": live["access_token"],
        "revoked": revoked["access_token"],
        "personal": pats[0].get_json()["token"],
        "personal_revoked": gone["token"],
    }


def write_history(app, client) -> None:
    """Posts edited over time by two editors: tags respelled, a slug changed, a long body
    edited a little at a time (stored as deltas), a long history pruned to its newest
    revisions (its deltas rebased), and a post in the trash with its revisions; images of
    each type, a photo with its variants the feature image of one post and shown in its body,
    a WebP that of the post in the trash."""
    one = sign_up(client, app, "editorone", "editor")
    two = sign_up(client, app, "editortwo", "editor")
    photo = uploaded(client, one, gradient_jpeg((1600, 1200)), "heron.jpg", alt="A heron")
    uploaded(client, two, image_bytes("PNG", (400, 300), "RGBA", (0, 90, 200, 120)), "sky.png")
    uploaded(client, two, image_bytes("GIF", (64, 48), "P", 3), "dot.gif", alt="")
    banner = uploaded(client, one, image_bytes("WEBP", (900, 300)), "../banner\u202e.webp")
    edited = new_post(client, one, title="Flask notes", body="First.", tags=["Flask", "web dev"])
    patch(client, two, edited, body=f"First.\n\n![A heron]({photo['variants'][1]['url']})")
    patch(
        client,
        one,
        edited,
        tags=["FLASK", "Web Dev"],
        summary="Two editors' notes.",
        feature_image_id=photo["id"],
    )
    patch(client, two, edited, slug="flask-field-notes", title="Flask field notes")
    long = new_post(client, two, title="A long read", body=LONG_BODY)
    for n in (5, 250, 590):
        body = LONG_BODY.replace(f"Paragraph {n}: a line", f"Paragraph {n}: an edited line")
        patch(client, one, long, body=body)
    app.config["REVISIONS_KEEP"] = 3
    pruned = new_post(client, one, title="Often saved", body=f"Draft 1.\n\n{LONG_BODY}")
    for n in range(2, 7):
        patch(client, one if n % 2 else two, pruned, body=f"Draft {n}.\n\n{LONG_BODY}")
    app.config["REVISIONS_KEEP"] = 100
    trashed = new_post(client, two, title="Soon gone", body="Old.", tags=["Flask"])
    patch(client, one, trashed, body="Older.", tags=["Trash talk"], feature_image_id=banner["id"])
    assert client.delete(f"{API}/posts/{trashed['id']}", headers=one.headers).status_code == 204
    patch(client, two, edited, body="First.\n\nThird thoughts.")  # after the others' saves
    assert layout(app)[pruned["id"]] == [(4, None), (5, 4), (6, 4)]
    assert layout(app)[long["id"]] == [(1, None), (2, 1), (3, 1), (4, 1)]


def uploaded(client, account, data: bytes, filename: str, alt: str = "An image") -> dict:
    """POST /media as this account; the new media."""
    response = upload(client, account, data, filename, alt=alt)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def layout(app) -> dict[int, list[tuple[int, int | None]]]:
    """How each post's revisions are stored: (number, the keyframe of each delta)."""
    found: dict[int, list[tuple[int, int | None]]] = {}
    with app.app_context():
        query = select(PostRevision.post_id, PostRevision.number, PostRevision.keyframe)
        for post_id, number, keyframe in db.session.execute(query.order_by(PostRevision.id)):
            found.setdefault(post_id, []).append((number, keyframe))
        db.session.rollback()
    return found


def patch(client, account, post, **changes) -> None:
    """PATCH /posts/{id} as this account."""
    response = client.patch(f"{API}/posts/{post['id']}", json=changes, headers=account.headers)
    assert response.status_code == 200, response.get_json()


NOT_EXPORTED = ("account_tokens", "mail_outbox")


def stored(app) -> dict[str, list[dict]]:
    """Every row of every table; revisions with their bodies whole instead of their ids and
    stored form (an import numbers and stores them again), and no count of changes (a cache
    key that edits raise more than an import does)."""
    rows = all_rows(app)
    del rows["content_version"]
    for table in NOT_EXPORTED:  # one-time tokens and mail stay behind
        rows.pop(table, None)
    with app.app_context():
        query = select(PostRevision).order_by(PostRevision.post_id, PostRevision.number)
        rows["post_revisions"] = [
            {field: getattr(revision, field) for field in REVISION_FIELDS}
            | {"body": body_of(revision)}
            for revision in db.session.scalars(query)
        ]
        db.session.rollback()
    return rows


REVISION_FIELDS = (
    "post_id",
    "number",
    "created_at",
    "author_id",
    "title",
    "slug",
    "summary",
    "tags",
)


def history(client, token: str) -> dict:
    """The trash, and every revision of every post (listed, then one by one) as an admin
    reads them; the trash is restored on the way (a trashed post's revisions are 404)."""
    headers = bearer(token)
    trash = client.get(f"{API}/trash?per_page=100", headers=headers)
    assert trash.status_code == 200
    seen = {"trash": trash.get_json()}
    for post in seen["trash"]["items"]:
        back = client.post(f"{API}/posts/{post['id']}/restore", headers=headers)
        assert back.status_code == 200, back.get_json()
    with client.application.app_context():
        ids = db.session.scalars(select(PostRevision.post_id).distinct()).all()
        db.session.rollback()
    for post_id in sorted(ids):
        path = f"{API}/posts/{post_id}/revisions"
        listed = client.get(f"{path}?per_page=100", headers=headers)
        assert listed.status_code == 200
        one_by_one = [
            client.get(f"{path}/{item['number']}", headers=headers)
            for item in listed.get_json()["items"]
        ]
        assert {response.status_code for response in one_by_one} == {200}
        seen[post_id] = [listed.get_json(), *(response.get_json() for response in one_by_one)]
    return seen


def export_to(runner, path: Path) -> list[str]:
    """export PATH; the lines written."""
    result = cli(runner, "export", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Exported {SUMMARY}")
    return path.read_text().splitlines()


def import_into(url: str, path: Path, **settings):
    """A new app on the database at url (with these settings), after `import PATH` into it."""
    target = app_on(url, **settings)
    result = cli(target.test_cli_runner(), "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Imported {SUMMARY}")
    return target


def test_export_then_import_reproduces_every_row_and_login(app, runner, client, tmp_path):
    tokens = populate(runner, client)
    assert [row["slug"] for row in stored(app)["post_slugs"]] == ["flask-notes"]  # its redirect
    lines = export_to(runner, tmp_path / "blog.jsonl")
    assert stat.S_IMODE(os.stat(tmp_path / "blog.jsonl").st_mode) == 0o600  # password hashes
    header = json.loads(lines[0])
    assert header["type"] == "header" and header["format"] == 9
    kinds = [json.loads(line)["type"] for line in lines[1:]]
    order = [
        *("user", "tag", "media", "file", "post", "revision", "revoked_token", "personal_token"),
        "webhook_event",  # the uploads' and the trashing's, not yet fanned out
    ]
    assert list(dict.fromkeys(kinds)) == order  # each kind together, revisions after posts
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = import_into(url, tmp_path / "blog.jsonl")
        try:
            assert stored(target) == stored(app)
            assert layout(target) == layout(app)  # deltas where the saves made them
            again = export_to(target.test_cli_runner(), tmp_path / "again.jsonl")
            assert again[1:] == lines[1:]
            moved = target.test_client()
            assert history(moved, tokens["live"]) == history(client, tokens["live"])
            assert login(moved, "root").status_code == 200
            me = moved.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {tokens['live']}"})
            assert me.status_code == 200 and me.get_json()["username"] == "root"
            stale = {"Authorization": f"Bearer {tokens['revoked']}"}
            assert moved.get(f"{API}/auth/me", headers=stale).status_code == 401
            for token, status in ((tokens["personal"], 200), (tokens["personal_revoked"], 401)):
                used = moved.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
                assert used.status_code == status  # writers' apps keep working, revoked stay so
            newcomer = {"username": "newcomer", "email": "new@example.com", "password": PASSWORD}
            created = moved.post(f"{API}/auth/register", json=newcomer)
            assert created.status_code == 201, created.get_json()  # ids do not collide
            assert created.get_json()["id"] == 11
            app_token = moved.post(
                f"{API}/auth/tokens",
                json={"name": "new", "scopes": ["create"]},
                headers={"Authorization": f"Bearer {tokens['live']}"},
            )
            assert app_token.get_json()["id"] == 2  # ids go on from the highest stored one
            mine = Account("newcomer", "new@example.com", PASSWORD, "contributor")
            mine.access_token = login(moved, "newcomer").get_json()["access_token"]
            assert uploaded(moved, mine, image_bytes("PNG", (20, 20)), "new.png")["id"] == 5
        finally:
            dispose(target)


def media_files(app) -> dict[str, bytes]:
    """Every file in the app's media storage, by key."""
    with app.app_context():
        storage = media_storage()
        return {key: storage.read(key) for key, _stored_at in storage.all_keys()}


def shown(app, client, token: str) -> dict:
    """What readers get of the media: each key's file at /media/<key> (status, type and
    bytes), and each post with a feature image as an admin reads it (the trash restored)."""
    with app.app_context():
        keys = [key for media in db.session.scalars(select(Media)) for key in media.file_keys]
        featured = db.session.scalars(select(Post.id).where(Post.feature_image_id.is_not(None)))
        posts = sorted(featured)
        db.session.rollback()
    seen: dict = {}
    for key in keys:
        served = client.get(f"/media/{key}")
        seen[key] = (served.status_code, served.headers["Content-Type"], served.data)
    for post in client.get(f"{API}/trash", headers=bearer(token)).get_json()["items"]:
        restored = client.post(f"{API}/posts/{post['id']}/restore", headers=bearer(token))
        assert restored.status_code == 200
    for post_id in posts:
        seen[post_id] = client.get(f"{API}/posts/{post_id}", headers=bearer(token)).get_json()
    return seen


def test_media_moves_from_a_folder_to_s3_and_back_byte_identical(app, runner, client, tmp_path):
    tokens = populate(runner, client)
    assert [row["slug"] for row in stored(app)["post_slugs"]] == ["flask-notes"]  # its redirect
    lines = export_to(runner, tmp_path / "blog.jsonl")
    files, rows = media_files(app), stored(app)
    assert len(files) == 10 and app.config["MEDIA_STORAGE"] == "filesystem"
    before = shown(app, client, tokens["live"])
    assert {post["feature_image"]["id"] for post in before.values() if isinstance(post, dict)} == {
        1,
        4,
    }
    with (
        fresh_database(tmp_path, suite_admin_url()) as s3_url,
        fresh_database(tmp_path, suite_admin_url()) as folder_url,
    ):
        upgrade(s3_url)
        on_s3 = import_into(s3_url, tmp_path / "blog.jsonl", **s3_settings())
        try:
            assert media_files(on_s3) == files  # every file, byte for byte, and no other
            assert stored(on_s3) == rows  # media rows, posts' feature_image_id
            assert export_to(on_s3.test_cli_runner(), tmp_path / "s3.jsonl")[1:] == lines[1:]
            assert shown(on_s3, on_s3.test_client(), tokens["live"]) == before
        finally:
            dispose(on_s3)
        upgrade(folder_url)
        back = import_into(folder_url, tmp_path / "s3.jsonl")
        try:
            assert back.config["MEDIA_STORAGE"] == "filesystem"
            assert media_files(back) == files
            assert stored(back) == rows
            assert shown(back, back.test_client(), tokens["live"]) == before
        finally:
            dispose(back)


def test_a_history_whose_deltas_come_before_their_keyframe_exports_and_imports_whole(
    app, runner, client, tmp_path
):
    app.config["REVISIONS_KEEP"] = 4
    create_user(runner, "root", "admin")
    editor = sign_up(client, app, "keeper", "editor")
    post = new_post(client, editor, title="Often saved", body=LONG_BODY)
    for n in range(2, 8):
        patch(
            client, editor, post, body=LONG_BODY.replace(f"Paragraph {n}: a", f"Paragraph {n}: A")
        )
    # Pruning revision 1 rebased its deltas on the newest of them, 5: revision 4 reads from 5.
    assert layout(app)[post["id"]] == [(4, 5), (5, None), (6, 5), (7, 5)]
    exported = cli(runner, "export", str(tmp_path / "blog.jsonl"))
    assert exported.exit_code == 0, exported.output
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = app_on(url)
        try:
            imported = cli(target.test_cli_runner(), "import", str(tmp_path / "blog.jsonl"))
            assert imported.exit_code == 0, imported.output
            assert stored(target) == stored(app)
        finally:
            dispose(target)


@pytest.fixture(scope="module")
def other_backend_admin_url():
    """The other database kind: SQLite when the suite runs on PostgreSQL, else a PostgreSQL."""
    if suite_admin_url():
        yield None
        return
    if find_pg_bindir() is None:
        unavailable("PostgreSQL server binaries are not installed")
    with PostgresServer() as server:
        yield server.admin_url


def test_a_database_moves_between_sqlite_and_postgresql(
    app, runner, client, tmp_path, other_backend_admin_url
):
    populate(runner, client)
    export_to(runner, tmp_path / "blog.jsonl")
    with fresh_database(tmp_path, other_backend_admin_url) as url:
        upgrade(url)
        target = import_into(url, tmp_path / "blog.jsonl")
        try:
            assert stored(target) == stored(app)
            assert login(target.test_client(), "root").status_code == 200
        finally:
            dispose(target)


def test_the_posts_read_the_same_over_the_api_after_a_move(app, runner, client, tmp_path):
    populate(runner, client)
    export_to(runner, tmp_path / "blog.jsonl")
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = import_into(url, tmp_path / "blog.jsonl")
        try:
            moved = target.test_client()
            for page in (1, 2, 3):
                path = f"{API}/posts?per_page=100&page={page}"
                before, after = client.get(path), moved.get(path)
                assert before.status_code == after.status_code == 200
                assert after.get_json() == before.get_json()
                for post in before.get_json()["items"][:10]:
                    one = f"{API}/posts/{post['slug']}"
                    assert moved.get(one).get_json() == client.get(one).get_json()
        finally:
            dispose(target)


def test_export_to_stdout_and_import_from_stdin(app, runner, client, tmp_path):
    populate(runner, client)
    result = runner.invoke(args=["export", "-"])
    assert result.exit_code == 0
    assert result.stderr.startswith(f"Exported {SUMMARY}") and "standard output" in result.stderr
    records = [json.loads(line) for line in result.stdout_bytes.splitlines()]
    assert records[0]["type"] == "header"
    assert len(records) == 1 + 10 + 32 + 4 + 10 + 304 + 314 + 2 + 1 + 5
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = app_on(url)
        try:
            loaded = target.test_cli_runner().invoke(
                args=["import", "-"], input=result.stdout_bytes
            )
            assert loaded.exit_code == 0, loaded.output
            assert stored(target) == stored(app)
        finally:
            dispose(target)


def test_a_gz_file_is_compressed_both_ways(app, runner, client, tmp_path):
    populate(runner, client)
    path = tmp_path / "blog.jsonl.gz"
    assert cli(runner, "export", str(path)).exit_code == 0
    with gzip.open(path, "rt") as lines:
        assert json.loads(lines.readline())["type"] == "header"
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = import_into(url, path)
        try:
            assert stored(target) == stored(app)
        finally:
            dispose(target)


def test_export_replaces_a_file_whole_or_not_at_all(runner, tmp_path):
    create_user(runner, "root", "admin")
    path = tmp_path / "blog.jsonl"
    path.write_text("an older export\n")
    assert cli(runner, "export", str(path)).exit_code == 0
    assert json.loads(path.read_text().splitlines()[0])["counts"]["user"] == 1
    missing = cli(runner, "export", str(tmp_path / "no-such-dir" / "blog.jsonl"))
    assert missing.exit_code == 1 and "cannot write" in missing.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blog.jsonl"]  # no temporary left


def test_export_refuses_when_a_media_file_is_missing_from_the_storage(app, client, tmp_path):
    writer = sign_up(client, app, "writer", "author")
    photo = uploaded(client, writer, gradient_jpeg((800, 600)), "photo.jpg")
    lost = photo["variants"][0]["url"].rsplit("/", 1)[1]
    with app.app_context():
        media_storage().delete(lost)  # by hand, or a deletion racing the export
    path = tmp_path / "blog.jsonl"
    message = assert_one_line_error(cli(app.test_cli_runner(), "export", str(path)))
    assert f"cannot export: media {photo['id']} names the file {lost}, which the filesystem " in (
        message
    )
    assert list(tmp_path.iterdir()) == []  # no partial export left behind


def test_import_needs_a_migrated_database(tmp_path, runner):
    create_user(runner, "root", "admin")
    path = tmp_path / "blog.jsonl"
    assert cli(runner, "export", str(path)).exit_code == 0
    with fresh_database(tmp_path, suite_admin_url()) as url:
        target = app_on(url)
        try:
            result = cli(target.test_cli_runner(), "import", str(path))
        finally:
            dispose(target)
    assert result.exit_code == 1
    assert "run `manage.py db upgrade` first" in result.stderr
    assert result.stderr.count("\n") == 1
