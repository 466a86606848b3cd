"""What account commands read from the admin: users by name, and passwords never as arguments."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from blogapi.accounts.service import find_user
from blogapi.db.commands import fail
from blogapi.db.models import User
from blogapi.security.password_policy import password_problems


def user_or_fail(name: str) -> User:
    """The user with this username or email (any case), else exit 1."""
    user = find_user(name)
    if user is None:
        fail(f"no user named {name!r}")
    return user


def read_password(from_stdin: bool) -> str:
    """A password from one line of stdin, or a hidden prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: no password on standard input.")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def read_new_password(from_stdin: bool, username: str = "", email: str = "") -> str:
    """A password that meets the policy; a usage error (exit 2) says why one does not."""
    password = read_password(from_stdin)
    problems = password_problems(password, username=username, email=email)
    if problems:
        raise click.UsageError(" ".join(problems))
    return password


def password_stdin_option(whose: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The --password-stdin flag, for scripts (passwords never go in an argument)."""
    return click.option(
        "--password-stdin",
        is_flag=True,
        help=f"Read {whose} password from one line of standard input "
        "(without it, a hidden prompt asks twice).",
    )
