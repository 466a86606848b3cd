"""Stories about which passwords people may choose (NIST SP 800-63B style)."""

from __future__ import annotations

from importlib.resources import files

import pytest

from blogapi.security.password_policy import (
    REPEATED_CHARACTER,
    SAME_AS_EMAIL,
    SAME_AS_USERNAME,
    TOO_COMMON,
    TOO_LONG,
    TOO_SHORT,
    common_passwords,
    password_problems,
)


def fullwidth(text: str) -> str:
    """Return ASCII text spelled with its fullwidth lookalike characters."""
    return "".join(chr(ord(ch) + 0xFEE0) for ch in text)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "tr0ub4dor&3x",
        "eightchr",
        "only lowercase letters and spaces",
        "Ünïcödé pässwörd",
        "пароль-для-блога",
        "🔑🔑🔒🔓🔐🗝️🔏🚪",
    ],
)
def test_reasonable_passwords_are_accepted_without_composition_rules(
    password: str,
) -> None:
    assert password_problems(password) == []


def test_a_long_passphrase_up_to_the_limit_is_fine() -> None:
    passphrase = ("a long and memorable passphrase " * 40)[:1024]

    assert password_problems(passphrase) == []


@pytest.mark.parametrize("password", ["", "a", "short", "seven77"])
def test_short_passwords_are_rejected(password: str) -> None:
    assert TOO_SHORT in password_problems(password)
    assert TOO_SHORT == "Password must be at least 8 characters long."


def test_length_counts_code_points_not_bytes() -> None:
    # Eight characters, but far more than eight UTF-8 bytes.
    assert password_problems("ĉiŭĵaŭdŝ") == []
    assert TOO_SHORT in password_problems("ĉiŭĵaŭd")


def test_length_is_measured_after_nfkc_normalization() -> None:
    # Each ligature decomposes to two or three letters under NFKC.
    assert TOO_SHORT not in password_problems("ﬃﬃﬃ")
    # A combining accent folds into its base letter, leaving seven characters.
    assert TOO_SHORT in password_problems("abcdefe\u0301")


def test_overlong_passwords_are_rejected_as_a_denial_of_service_guard() -> None:
    assert password_problems("xy" * 513) == [TOO_LONG]
    assert password_problems("z" * 100_000) == [TOO_LONG]


def test_password_equal_to_username_is_rejected_case_insensitively() -> None:
    assert SAME_AS_USERNAME in password_problems("Alice-Smith", username="alice-smith")
    assert SAME_AS_USERNAME == "Password must not be the same as the username."


def test_password_merely_containing_the_username_is_fine() -> None:
    assert password_problems("alice-smith-writes", username="alice-smith") == []


def test_password_equal_to_email_or_its_local_part_is_rejected() -> None:
    email = "Bob.Jones1@Example.com"

    assert SAME_AS_EMAIL in password_problems("bob.jones1@example.com", email=email)
    assert SAME_AS_EMAIL in password_problems("BOB.JONES1", email=email)
    assert password_problems("example.com", email=email) == []


def test_blank_username_and_email_are_ignored() -> None:
    assert password_problems("perfectly-fine-pw", username="", email="") == []


@pytest.mark.parametrize("password", ["password", "PASSWORD", "Password1", "qwertyuiop"])
def test_common_passwords_are_rejected_case_insensitively(password: str) -> None:
    assert TOO_COMMON in password_problems(password)
    assert TOO_COMMON == "Password is too common."


def test_fullwidth_lookalikes_of_common_passwords_are_caught() -> None:
    assert TOO_COMMON in password_problems(fullwidth("password"))


@pytest.mark.parametrize("password", ["aaaaaaaa", "!!!!!!!!!!!!", "🙂" * 10])
def test_a_single_repeated_character_is_rejected(password: str) -> None:
    assert REPEATED_CHARACTER in password_problems(password)


def test_several_problems_are_reported_together() -> None:
    problems = password_problems("aaaa", username="aaaa")

    assert problems == [TOO_SHORT, SAME_AS_USERNAME, REPEATED_CHARACTER]


def test_problems_read_as_sentences() -> None:
    for message in password_problems("aaaa", username="aaaa"):
        assert message[0].isupper() and message.endswith(".")


def test_the_common_list_holds_ten_thousand_lowercase_entries() -> None:
    entries = common_passwords()

    assert len(entries) == 10_000
    assert all(entry == entry.lower() and entry.strip() == entry for entry in entries)
    assert {"123456", "password", "qwerty"} <= entries
    assert not any(entry.startswith("#") for entry in entries)


def test_the_data_file_explains_where_it_came_from() -> None:
    text = files("blogapi.security.data").joinpath("common-passwords.txt").read_text("utf-8")
    header = text.splitlines()[:2]

    assert all(line.startswith("#") for line in header)
    assert "zxcvbn" in header[0] and "MIT" in header[0]
    assert "10000" in header[1]
    assert text.splitlines()[2] == "123456"


def test_the_list_is_loaded_once() -> None:
    assert common_passwords() is common_passwords()
