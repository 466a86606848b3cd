"""Helpers for tests of the admin command line."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from typing import Any

from devtools.live import ROOT
from tests.support.accounts import PASSWORD


def cli(runner: Any, *args: str, input: str | None = None) -> Any:
    """Run an admin command the way `python manage.py ARGS` would."""
    return runner.invoke(args=list(args), input=input)


def assert_one_line_error(result: Any, code: int = 1) -> str:
    """The command failed with `code` and said why on one line of stderr."""
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def assert_usage_error(result: Any) -> str:
    """The command refused its arguments with click's usage error (exit 2)."""
    assert result.exit_code == 2, result.output
    assert "Usage: " in result.stderr and "Error: " in result.stderr
    return result.stderr


def create_user(runner: Any, name: str, role: str = "author", password: str = PASSWORD) -> Any:
    """create-user NAME --email NAME@example.com --role ROLE, the password on stdin."""
    result = cli(
        runner,
        *("create-user", name, "--email", f"{name}@example.com", "--role", role),
        "--password-stdin",
        input=f"{password}\n",
    )
    assert result.exit_code == 0, result.output
    return result


def on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[Any, bytes]:
    """Run `python manage.py ARGS` with its stdout on a terminal (a pty), as an admin at a
    shell would; the finished process and what the terminal showed."""
    leader, follower = pty.openpty()
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=follower,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    os.close(follower)
    screen = b""
    while chunk := read_or_nothing(leader):
        screen += chunk
    os.close(leader)
    return result, screen


def read_or_nothing(fd: int) -> bytes:
    """Read from a pty; b"" once the other side is closed (Linux raises EIO then)."""
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""
