"""An admin fills a database with realistic demo content, to try blogapi out or measure it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from blogapi.backup.seed import seed
from blogapi.backup.seed_text import TAG_NAMES
from blogapi.db.models import Post, Tag, User, post_tags
from blogapi.extensions import db
from blogapi.posts.markdown import render_markdown
from blogapi.posts.slugs import is_valid_slug, slugify
from blogapi.timeutil import utcnow
from devtools.live import production_env
from tests.support.accounts import PASSWORD, login
from tests.support.apps import dispose, make_app
from tests.support.cli import assert_one_line_error, assert_usage_error, cli, on_a_terminal
from tests.support.databases import all_rows, fresh_database, suite_admin_url, upgrade


def seeded_posts(app) -> list[tuple[Post, str, list[int]]]:
    """Every post with its author's role and its tag ids."""
    with app.app_context():
        posts = db.session.scalars(select(Post).order_by(Post.id)).all()
        roles = dict(db.session.execute(select(User.id, User.role)).all())
        tags: dict[int, list[int]] = {}
        for post_id, tag_id in db.session.execute(select(post_tags.c.post_id, post_tags.c.tag_id)):
            tags.setdefault(post_id, []).append(tag_id)
        db.session.expunge_all()
    return [(post, roles[post.author_id], tags.get(post.id, [])) for post in posts]


def test_seed_fills_an_empty_database_with_a_realistic_mix(app, runner, client):
    result = cli(runner, "seed", "--users", "8", "--posts", "300", "--seed", "3")
    assert result.exit_code == 0, result.output
    summary, examples, password_line = result.stdout.splitlines()
    assert summary.startswith("Created 8 users, 300 posts (")
    assert "drafts) and 30 new tags in " in summary
    password = password_line.rsplit(": ", 1)[1]
    # One user of each role logs in over the API with the password printed once.
    for example in examples.removeprefix("Log in as, for example: ").rstrip(".").split(", "):
        username, role = example.removesuffix(")").split(" (")
        response = login(client, username, password)
        assert response.status_code == 200 and response.get_json()["user"]["role"] == role
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        tags = {tag.id: tag for tag in db.session.scalars(select(Tag))}
    assert set(Counter(user.role for user in users)) == {"admin", "editor", "author", "contributor"}
    assert sorted(tag.name for tag in tags.values()) == sorted(TAG_NAMES)
    assert all(tag.slug == slugify(tag.name) for tag in tags.values())

    now, posts = utcnow(), seeded_posts(app)
    statuses = Counter(post.status_at(now) for post, _, _ in posts)
    assert 180 <= statuses["published"] <= 240
    assert 15 <= statuses["scheduled"] <= 50
    assert 35 <= statuses["draft"] <= 90
    joined = max(user.created_at for user in users)
    for post, role, tag_ids in posts:
        status = post.status_at(now)
        assert joined < post.created_at <= post.updated_at
        if status == "published":
            assert now - timedelta(days=731) < post.published_at <= now
            assert post.created_at <= post.published_at
        elif status == "scheduled":
            assert now < post.published_at <= now + timedelta(days=30)
        assert role != "contributor" or status == "draft"  # contributors cannot publish
        assert len(tag_ids) <= 4 and set(tag_ids) <= set(tags)
        assert post.body_html == render_markdown(post.body)
        assert 1 <= len(post.title) <= 200 and len(post.summary) <= 500
        assert is_valid_slug(post.slug) and post.slug.startswith(slugify(post.title)[:60])
    assert len({post.slug for post, _, _ in posts}) == 300
    published_days = {post.published_at.date() for post, _, _ in posts if post.published_at}
    assert len(published_days) > 150  # spread over time, not bunched up


def test_the_same_seed_gives_the_same_content():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    contents, passwords = [], set()
    for _ in range(2):
        app = make_app()
        with app.app_context():
            passwords.add(seed(6, 120, seed=42, now=now).password)
        rows = all_rows(app)
        dispose(app)
        for user in rows["users"]:
            user.pop("password_hash")  # salted: the password is the same, its hash is not
        for version in rows["content_version"]:
            version.pop("changed_at")  # when the seed ran, not what it made
        contents.append(rows)
    assert contents[0] == contents[1]
    assert len(contents[0]["posts"]) == 120 and len(contents[0]["post_tags"]) > 100
    assert len(passwords) == 2  # the content repeats, the demo password never does


def test_seeding_twice_adds_more_without_clashes(app, runner):
    first = cli(runner, "seed", "--users", "5", "--posts", "40", "--seed", "1")
    second = cli(runner, "seed", "--users", "5", "--posts", "40", "--seed", "1")
    assert first.exit_code == second.exit_code == 0
    assert " and 0 new tags " in second.stdout
    with app.app_context():
        usernames = db.session.scalars(select(User.username_key)).all()
        slugs = db.session.scalars(select(Post.slug)).all()
    assert len(usernames) == len(set(usernames)) == 10
    assert len(slugs) == len(set(slugs)) == 80


def test_with_no_new_users_the_existing_ones_write_the_posts(app, runner, make_account):
    nobody = cli(runner, "seed", "--users", "0", "--posts", "5")
    assert "no users to write the posts" in assert_one_line_error(nobody)
    author = make_account("author")
    result = cli(runner, "seed", "--users", "0", "--posts", "20")
    assert result.exit_code == 0, result.output
    assert "password" not in result.stdout  # no demo users, so no password to show
    assert {post.author_id for post, _, _ in seeded_posts(app)} == {author.user["id"]}


@pytest.mark.parametrize(
    "args", [["--posts", "-1"], ["--users", "many"], ["--seed", "x"], ["--colour", "red"]]
)
def test_bad_seed_arguments_are_usage_errors(runner, args):
    assert_usage_error(cli(runner, "seed", *args))


def test_seeded_users_can_get_a_chosen_password(runner, client):
    result = cli(
        runner, "seed", "--users", "4", "--posts", "0", "--password-stdin", input=f"{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.stdout
    username = result.stdout.split("for example: ")[1].split(" (")[0]
    assert login(client, username, PASSWORD).status_code == 200
    weak = cli(runner, "seed", "--password-stdin", input="password\n")
    assert "too common" in assert_usage_error(weak)


def test_the_progress_bar_shows_on_a_terminal_only(runner, tmp_path):
    assert "Seeding posts" not in cli(runner, "seed", "--posts", "30").output
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        result, screen = on_a_terminal(["seed", "--posts", "30"], production_env(url))
    assert result.returncode == 0, result.stderr
    assert b"Seeding posts" in screen and b"100%" in screen
    assert b"Created 10 users, 30 posts" in screen
