"""The seed command: realistic demo content, to try blogapi out or to measure it."""

from __future__ import annotations

import time

import click

from blogapi.accounts.cli_input import read_new_password
from blogapi.backup.seed import SeedError, seed
from blogapi.db.commands import admin_command, fail, progress


@admin_command("seed")
@click.option(
    "--users",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Demo users to add, of every role (0: the existing users write the posts).",
)
@click.option(
    "--posts",
    default=100,
    show_default=True,
    type=click.IntRange(min=0),
    help="Demo posts to add: ~70% published over two years, ~10% scheduled, ~20% drafts.",
)
@click.option(
    "--seed",
    "random_seed",
    type=int,
    metavar="N",
    help="Random seed: the same N on an empty database gives the same content.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the demo users' password from standard input (else one is made up and shown).",
)
def seed_command(users: int, posts: int, random_seed: int | None, password_stdin: bool) -> None:
    """Fill the database with realistic demo content.

    Adds users of every role, about 30 tags, and posts with Markdown bodies, spread over
    time. Existing data is kept. All demo users share one password, printed once.
    """
    password = read_new_password(True) if password_stdin else None
    started = time.monotonic()
    try:
        with progress(posts, "Seeding posts") as advance:
            report = seed(users, posts, password, seed=random_seed, on_progress=advance)
    except SeedError as exc:
        fail(str(exc))
    made = report.posts
    click.echo(
        f"Created {users} users, {posts} posts ({made['published']} published, "
        f"{made['scheduled']} scheduled, {made['draft']} drafts) and {report.tags_created} "
        f"new tags in {time.monotonic() - started:.1f}s."
    )
    if report.users:
        examples = ", ".join(f"{names[0]} ({role})" for role, names in report.users.items())
        click.echo(f"Log in as, for example: {examples}.")
        if not password_stdin:
            click.echo(f"Every demo user's password (shown only now): {report.password}")


COMMANDS = [seed_command]
