"""Stories about names and titles that would show as something other than what they hold.

A display name or title is one line of visible text wherever it appears (lists, feeds, the
audit log, a terminal): no control characters (ESC, CR, LF), no bidirectional controls that
reorder what follows (U+202E), and no value made only of invisible characters. Zero-width
joiners stay allowed between visible characters, where emoji sequences and scripts need them.
"""

from __future__ import annotations

import pytest

from tests.support.accounts import PASSWORD
from tests.support.posts import API, new_post, write_post
from tests.support.problems import assert_problem

# Each of these was accepted as a display name; the U+202E one as a title too.
HOSTILE = {
    "escape sequence": "Ada\x1b[2J\x1b[31mroot",
    "new line": "Ada\r\nAdmin: approved",
    "right-to-left override": "Ada\u202egnp.exe",
    "left-to-right isolate": "\u2066Ada\u2069",
    "right-to-left mark": "Ada\u200f",
    "Arabic letter mark": "\u061cAda",
    "zero-width only": "\u200b\u200c\u200d",
    "word joiner and BOM only": "\u2060\ufeff",
    "Hangul filler only": "\u3164",
    "zero-width space at the end": "Ada\u200b",
    "zero-width joiners in a row": "Ada\u200d\u200dLovelace",
}
# Zero-width characters between visible ones are how these are spelled.
LEGITIMATE = {
    "woman technologist emoji": "Ada \U0001f469\u200d\U0001f4bb",
    "rainbow flag emoji": "Ada \U0001f3f3\ufe0f\u200d\U0001f308",
    "family emoji": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "Persian with ZWNJ": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "accents and CJK": "Zoë 李",
}


def register(client, username, display_name):
    """POST /auth/register with a display name."""
    return client.post(
        f"{API}/auth/register",
        json={
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
            "display_name": display_name,
        },
    )


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_display_name_is_refused_at_registration_and_on_my_account(client, author, value):
    refused = assert_problem(register(client, "mallory", value), 422)
    assert list(refused["errors"]) == ["display_name"]
    assert client.get(f"{API}/users/mallory").status_code == 404
    patched = client.patch(f"{API}/auth/me", json={"display_name": value}, headers=author.headers)
    assert list(assert_problem(patched, 422)["errors"]) == ["display_name"]
    me = client.get(f"{API}/auth/me", headers=author.headers).get_json()
    assert me["display_name"] == author.user["display_name"]


@pytest.mark.parametrize("value", LEGITIMATE.values(), ids=LEGITIMATE.keys())
def test_emoji_sequences_and_scripts_that_join_letters_are_welcome(client, author, value):
    created = register(client, "ada", value)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["display_name"] == value
    patched = client.patch(f"{API}/auth/me", json={"display_name": value}, headers=author.headers)
    assert patched.status_code == 200 and patched.get_json()["display_name"] == value
    assert new_post(client, author, title=value)["title"] == value


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_title_is_refused_on_create_and_edit(client, author, value):
    refused = assert_problem(write_post(client, author, title=value), 422)
    assert list(refused["errors"]) == ["title"]
    post = new_post(client, author, title="Plain")
    edited = client.patch(
        f"{API}/posts/{post['id']}", json={"title": value}, headers=author.headers
    )
    assert list(assert_problem(edited, 422)["errors"]) == ["title"]
    assert client.get(f"{API}/posts/{post['id']}", headers=author.headers).json["title"] == "Plain"


def test_each_refusal_says_what_is_wrong(client, author):
    messages = {
        name: assert_problem(write_post(client, author, title=value), 422)["errors"]["title"]
        for name, value in HOSTILE.items()
    }
    assert "Control characters" in messages["escape sequence"][0]
    assert "Bidirectional control characters" in messages["right-to-left override"][0]
    assert "visible character" in messages["zero-width only"][0]
    assert "Zero-width characters" in messages["zero-width space at the end"][0]


def test_a_tag_name_cannot_reorder_text_either(client, author):
    refused = assert_problem(write_post(client, author, tags=["\u202epython"]), 422)
    assert list(refused["errors"]) == ["tags.0"]
