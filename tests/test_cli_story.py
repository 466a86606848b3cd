"""The admin's whole story, as real `python manage.py` processes and a real server.

From nothing: migrate, create the first admin, seed, export, import into a new
PostgreSQL database (SQLite when no PostgreSQL is installed), and serve the same data.
"""

from __future__ import annotations

import json

import requests

from devtools.live import LiveServer, production_env
from tests.support.accounts import PASSWORD
from tests.support.databases import (
    fresh_database,
    manage,
    postgres_admin_url,
    suite_admin_url,
    upgrade,
)


def ok(result) -> str:
    """The stdout of a command that must have succeeded."""
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_create_admin_seed_export_import_and_serve(tmp_path):
    backup = tmp_path / "blog.jsonl"
    with fresh_database(tmp_path, suite_admin_url()) as source:
        upgrade(source)
        created = manage(
            source,
            *("create-user", "root", "--email", "root@example.com", "--role", "admin"),
            "--password-stdin",
            stdin=f"{PASSWORD}\n",
        )
        assert ok(created) == "Created admin root <root@example.com>.\n"
        seeded = ok(manage(source, "seed", "--posts", "300", "--seed", "7"))
        assert seeded.startswith("Created 10 users, 300 posts (")
        exported = ok(manage(source, "export", str(backup)))
        assert exported.startswith(
            "Exported 11 users, 30 tags, 0 media, 0 media files, 300 posts, 300 revisions,"
            " 0 revoked tokens and 0 personal access tokens"
        )
        users = json.loads(ok(manage(source, "list-users", "--json")))

        with postgres_admin_url() as admin_url, fresh_database(tmp_path, admin_url) as target:
            upgrade(target)
            imported = ok(manage(target, "import", str(backup)))
            assert imported.startswith(
                "Imported 11 users, 30 tags, 0 media, 0 media files, 300 posts"
            )
            assert json.loads(ok(manage(target, "list-users", "--json"))) == users
            with LiveServer(production_env(target), workers=1) as server:
                pair = requests.post(
                    f"{server.api}/auth/login",
                    json={"username": "root", "password": PASSWORD},
                    timeout=10,
                )
                assert pair.status_code == 200
                profile = requests.get(f"{server.api}/users/{users[1]['username']}", timeout=10)
                assert profile.json()["created_at"] == users[1]["created_at"]


def test_mistakes_exit_1_or_2_with_one_line_on_stderr(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        unknown = manage(url, "set-role", "ghost", "editor")
        assert (unknown.returncode, unknown.stdout) == (1, "")
        assert unknown.stderr == "Error: no user named 'ghost'\n"
        bad_role = manage(url, "set-role", "ghost", "emperor")
        assert bad_role.returncode == 2
        assert bad_role.stderr.startswith("Usage: manage.py set-role [OPTIONS] NAME ROLE\n")
        assert "Invalid value for 'ROLE': 'emperor' is not one of" in bad_role.stderr
    with fresh_database(tmp_path) as unmigrated:
        missing = manage(unmigrated, "list-users")
        assert missing.returncode == 1
        assert missing.stderr.count("\n") == 1 and "db upgrade" in missing.stderr
        assert "Traceback" not in missing.stderr
