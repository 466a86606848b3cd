"""An admin exports the whole database and imports it into a new one, losing nothing."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest

from devtools.binaries import find_pg_bindir
from devtools.postgres_server import PostgresServer
from tests.support.accounts import PASSWORD, login
from tests.support.apps import app_on, dispose
from tests.support.cli import cli, create_user
from tests.support.databases import all_rows, fresh_database, suite_admin_url, upgrade
from tests.support.prerequisites import unavailable

API = "/api/v1"


def populate(runner, client) -> dict[str, str]:
    """A lived-in database: an admin, 300 seeded posts, a deactivated user, revoked tokens."""
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
    contributor = json.loads(cli(runner, "list-users", "--role", "contributor", "--json").stdout)
    assert cli(runner, "deactivate", contributor[0]["username"]).exit_code == 0
    return {"live": live["access_token"], "revoked": revoked["access_token"]}


def export_to(runner, path: Path) -> list[str]:
    """export PATH; the lines written."""
    result = cli(runner, "export", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Exported 8 users, 30 tags, 300 posts and 2 revoked tokens")
    return path.read_text().splitlines()


def import_into(url: str, path: Path):
    """A new app on the database at url, after `import PATH` into it."""
    target = app_on(url)
    result = cli(target.test_cli_runner(), "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported 8 users, 30 tags, 300 posts and 2 revoked tokens")
    return target


def test_export_then_import_reproduces_every_row_and_login(app, runner, client, tmp_path):
    tokens = populate(runner, client)
    lines = export_to(runner, tmp_path / "blog.jsonl")
    assert stat.S_IMODE(os.stat(tmp_path / "blog.jsonl").st_mode) == 0o600  # password hashes
    header = json.loads(lines[0])
    assert header["type"] == "header" and header["format"] == 2
    assert {json.loads(line)["type"] for line in lines[1:]} == {
        "user",
        "tag",
        "post",
        "revoked_token",
    }
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = import_into(url, tmp_path / "blog.jsonl")
        try:
            assert all_rows(target) == all_rows(app)
            again = export_to(target.test_cli_runner(), tmp_path / "again.jsonl")
            assert again[1:] == lines[1:]
            moved = target.test_client()
            assert login(moved, "root").status_code == 200
            me = moved.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {tokens['live']}"})
            assert me.status_code == 200 and me.get_json()["username"] == "root"
            stale = {"Authorization": f"Bearer {tokens['revoked']}"}
            assert moved.get(f"{API}/auth/me", headers=stale).status_code == 401
            newcomer = {"username": "newcomer", "email": "new@example.com", "password": PASSWORD}
            created = moved.post(f"{API}/auth/register", json=newcomer)
            assert created.status_code == 201, created.get_json()  # ids do not collide
            assert created.get_json()["id"] == 9
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
            assert all_rows(target) == all_rows(app)
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
    assert result.stderr.startswith("Exported 8 users") and "standard output" in result.stderr
    records = [json.loads(line) for line in result.stdout_bytes.splitlines()]
    assert records[0]["type"] == "header" and len(records) == 1 + 8 + 30 + 300 + 2
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = app_on(url)
        try:
            loaded = target.test_cli_runner().invoke(
                args=["import", "-"], input=result.stdout_bytes
            )
            assert loaded.exit_code == 0, loaded.output
            assert all_rows(target) == all_rows(app)
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
            assert all_rows(target) == all_rows(app)
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
