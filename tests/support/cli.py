"""Helpers for tests of the admin command line."""

from __future__ import annotations

from typing import Any

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
