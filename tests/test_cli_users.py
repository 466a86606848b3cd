"""An admin manages accounts from the command line: create, roles, passwords, lists."""

from __future__ import annotations

import json

import pytest

from tests.support.accounts import PASSWORD, login
from tests.support.cli import assert_one_line_error, assert_usage_error, cli
from tests.support.cli import create_user as create

API = "/api/v1"
NEW_PASSWORD = "a brand new passphrase 42"


def test_the_first_admin_is_created_from_the_command_line_and_can_log_in(runner, client):
    result = create(runner, "root", "admin")
    assert result.stdout == "Created admin root <root@example.com>.\n"
    response = login(client, "root")
    assert response.status_code == 200
    assert response.get_json()["user"]["role"] == "admin"


def test_without_password_stdin_the_password_is_asked_twice_and_never_echoed(runner, client):
    result = cli(
        runner,
        *("create-user", "ada", "--email", "ada@example.com"),
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password: " in result.output and "Repeat for confirmation: " in result.output
    assert PASSWORD not in result.output
    assert login(client, "ada").status_code == 200


def test_two_different_answers_to_the_prompt_are_asked_again(runner, client):
    result = cli(
        runner,
        *("create-user", "ada", "--email", "ada@example.com"),
        input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert login(client, "ada").status_code == 200


def test_a_taken_username_or_email_exits_1_naming_it_on_one_line(runner):
    create(runner, "ada")
    result = cli(
        runner,
        *("create-user", "ADA", "--email", "other@example.com", "--password-stdin"),
        input=f"{PASSWORD}\n",
    )
    assert assert_one_line_error(result) == "Error: username 'ADA' is taken\n"
    result = cli(
        runner,
        *("create-user", "other", "--email", "Ada@Example.com", "--password-stdin"),
        input=f"{PASSWORD}\n",
    )
    assert assert_one_line_error(result) == "Error: email 'Ada@Example.com' is taken\n"
    result = cli(
        runner,
        *("create-user", "ada", "--email", "ada@example.com", "--password-stdin"),
        input=f"{PASSWORD}\n",
    )
    expected = "Error: username 'ada' is taken; email 'ada@example.com' is taken\n"
    assert assert_one_line_error(result) == expected


@pytest.mark.parametrize(
    ("args", "stdin", "complaint"),
    [
        (["--role", "superuser"], PASSWORD, "'superuser' is not one of"),
        ([], "password", "too common"),
        ([], "", "no password on standard input"),
    ],
)
def test_a_bad_role_or_password_is_a_usage_error(runner, client, args, stdin, complaint):
    result = cli(
        runner,
        *("create-user", "ada", "--email", "ada@example.com", "--password-stdin", *args),
        input=f"{stdin}\n",
    )
    assert complaint in assert_usage_error(result)
    assert login(client, "ada").status_code == 401


def test_set_role_changes_what_the_user_may_do(runner, client, app):
    create(runner, "root", "admin")
    create(runner, "ada")
    result = cli(runner, "set-role", "ada", "editor")
    assert result.exit_code == 0
    assert result.stdout == "ada is now an editor (was an author).\n"
    assert login(client, "ada").get_json()["user"]["role"] == "editor"
    again = cli(runner, "set-role", "ADA@example.com", "editor")
    assert again.stdout == "ada is already an editor.\n"


def test_set_role_for_an_unknown_user_or_role(runner):
    create(runner, "ada")
    assert "no user named 'nobody'" in assert_one_line_error(
        cli(runner, "set-role", "nobody", "editor")
    )
    assert "'overlord' is not one of" in assert_usage_error(
        cli(runner, "set-role", "ada", "overlord")
    )
    assert_usage_error(cli(runner, "set-role", "ada"))


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(runner, client):
    create(runner, "root", "admin")
    assert "last active admin" in assert_one_line_error(cli(runner, "set-role", "root", "editor"))
    assert "last active admin" in assert_one_line_error(cli(runner, "deactivate", "root"))
    create(runner, "second", "admin")
    assert cli(runner, "set-role", "root", "editor").exit_code == 0
    assert login(client, "root").get_json()["user"]["role"] == "editor"


def test_the_api_and_the_cli_refuse_the_last_admin_with_one_rule(runner, client):
    """The same service function answers both: the same sentence, and nothing changes."""
    create(runner, "root", "admin")
    token = login(client, "root").get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for change in ({"role": "editor"}, {"active": False}):
        response = client.patch(f"{API}/users/root", json=change, headers=headers)
        assert response.status_code == 409
        detail = response.get_json()["detail"].rstrip(".")
        command = ("set-role", "root", "editor") if "role" in change else ("deactivate", "root")
        assert assert_one_line_error(cli(runner, *command)) == f"Error: {detail}\n"
    me = client.get(f"{API}/auth/me", headers=headers).get_json()
    assert (me["role"], me["active"]) == ("admin", True)


def test_reset_password_sets_it_and_logs_the_user_out_everywhere(runner, client, author):
    result = cli(
        runner, "reset-password", author.username, "--password-stdin", input=f"{NEW_PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "revoked" in result.stdout
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 401
    assert client.post(f"{API}/auth/refresh", headers=author.refresh_headers).status_code == 401
    assert login(client, author.username).status_code == 401
    assert login(client, author.username, NEW_PASSWORD).status_code == 200


def test_reset_password_prompts_twice_and_refuses_a_weak_one(runner, client, author):
    prompted = cli(
        runner, "reset-password", author.username, input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert prompted.exit_code == 0 and "Repeat for confirmation" in prompted.output
    weak = cli(runner, "reset-password", author.username, "--password-stdin", input="12345678\n")
    assert "too common" in assert_usage_error(weak)
    assert login(client, author.username, NEW_PASSWORD).status_code == 200
    assert "no user named" in assert_one_line_error(
        cli(runner, "reset-password", "nobody", "--password-stdin", input=f"{NEW_PASSWORD}\n")
    )


def test_deactivate_locks_a_user_out_and_activate_lets_them_back(runner, client, author):
    result = cli(runner, "deactivate", author.username)
    assert result.exit_code == 0
    assert result.stdout == f"Deactivated {author.username}; their tokens are revoked.\n"
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 401
    assert login(client, author.username).status_code == 403
    assert cli(runner, "deactivate", author.username).stdout.endswith("already deactivated.\n")
    assert cli(runner, "activate", author.username).stdout == f"Activated {author.username}.\n"
    assert login(client, author.username).status_code == 200
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 401
    assert cli(runner, "activate", author.username).stdout.endswith("already active.\n")
    assert_one_line_error(cli(runner, "activate", "nobody"))
    assert_one_line_error(cli(runner, "deactivate", "nobody"))


def test_list_users_prints_an_aligned_table(runner, make_account):
    create(runner, "root", "admin")
    make_account("contributor", username="a_much_longer_username")
    cli(runner, "deactivate", "a_much_longer_username")
    result = cli(runner, "list-users")
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["USERNAME", "EMAIL", "ROLE", "ACTIVE", "CREATED", "(UTC)"]
    starts = [header.index(word) for word in ("EMAIL", "ROLE", "ACTIVE", "CREATED")]
    assert len(rows) == 2
    for row in rows:
        for start in starts:
            assert row[start - 1] == " " and row[start] != " ", (row, start)
    root, other = (row.split() for row in rows)
    assert root[:4] == ["root", "root@example.com", "admin", "yes"]
    assert other[:4] == ["a_much_longer_username", other[1], "contributor", "no"]


def test_list_users_json_and_role_filter(runner, make_account):
    create(runner, "root", "admin")
    make_account("editor", username="eddie")
    make_account("author", username="ann")
    users = json.loads(cli(runner, "list-users", "--json").stdout)
    assert [u["username"] for u in users] == ["root", "eddie", "ann"]
    assert {"username", "email", "role", "active", "created_at"} <= set(users[0])
    assert "password_hash" not in users[0]
    editors = json.loads(cli(runner, "list-users", "--role", "editor", "--json").stdout)
    assert [u["username"] for u in editors] == ["eddie"]
    table = cli(runner, "list-users", "--role", "author").stdout.splitlines()
    assert len(table) == 2 and table[1].startswith("ann ")
    assert_usage_error(cli(runner, "list-users", "--role", "king"))
    assert json.loads(cli(runner, "list-users", "--role", "contributor", "--json").stdout) == []


COMMANDS = [
    "create-user",
    "set-role",
    "reset-password",
    "deactivate",
    "activate",
    "list-users",
    "revoke-tokens",
    "purge-tokens",
    "seed",
    "export",
    "import",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_admin_command_explains_itself(runner, command):
    listing = cli(runner, "--help").stdout
    assert command in listing
    result = cli(runner, command, "--help")
    assert result.exit_code == 0
    usage, _, rest = result.stdout.partition("\n\n")
    assert usage.startswith("Usage: ") and command in usage
    summary = rest.splitlines()[0].strip()
    assert summary.endswith(".") and len(summary) > 15
