"""Stories about oversized input: a refusal costs little and says little, however much was sent.

A 0.96 MB body of 240,000 empty tags once took 4.4 s and answered with a 25.7 MB problem;
80,000 unknown fields answered with 2.86 MB. Lists are now refused whole before their items
are looked at, and a problem names at most 20 fields and counts the rest.
"""

from __future__ import annotations

import pytest

from blogapi.web.errors import problem
from blogapi.web.fields import TrimmedString
from tests.support.posts import API, new_post, write_post
from tests.support.problems import assert_problem

SMALL = 4_000  # bytes: room for 20 named fields and the detail, and far from megabytes
ERRORS_SHOWN = 20  # fields a problem names
MESSAGES_SHOWN = 5  # messages it gives a field
NAME_SHOWN = 100  # characters of a field name it shows


@pytest.fixture
def item_checks(monkeypatch):
    """Count every trimmed string marshmallow validates (each tag is one)."""
    calls = []
    original = TrimmedString.deserialize

    def counted(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TrimmedString, "deserialize", counted)
    return calls


def test_240000_empty_tags_are_refused_whole_without_looking_at_one(client, author, item_checks):
    response = write_post(client, author, tags=[""] * 240_000)
    problem_body = assert_problem(response, 422)
    assert problem_body["errors"] == {"tags": ["Send at most 100 tags (10 different)."]}
    assert len(response.get_data()) < SMALL
    assert len(item_checks) < 5  # the title, perhaps; no tag at all


def test_a_list_just_over_its_limit_is_refused_and_one_at_it_is_read(client, author, item_checks):
    refused = write_post(client, author, tags=["python"] * 101)
    assert assert_problem(refused, 422)["errors"] == {
        "tags": ["Send at most 100 tags (10 different)."]
    }
    assert len(item_checks) < 5
    post = new_post(client, author, tags=["python", "Python"] * 50)
    assert post["tags"] == ["python"]


def test_80000_unknown_fields_get_20_named_and_a_count_of_the_rest(client, author):
    body = {"title": "t", "body": "b"} | {f"{n:05}": 1 for n in range(80_000)}  # 0.96 MB
    response = write_post(client, author, **body)
    problem_body = assert_problem(response, 422)
    assert len(problem_body["errors"]) == ERRORS_SHOWN
    assert problem_body["errors_omitted"] == 80_000 - ERRORS_SHOWN
    assert list(problem_body["errors"]) == [f"{n:05}" for n in range(ERRORS_SHOWN)]
    assert problem_body["detail"].endswith(f"00019 and {80_000 - ERRORS_SHOWN} more.")
    assert len(response.get_data()) < SMALL


def test_20_bad_fields_are_all_named_and_nothing_is_said_to_be_omitted(client, author):
    body = {"title": "t", "body": "b"} | {f"field{n}": 1 for n in range(ERRORS_SHOWN)}
    problem_body = assert_problem(write_post(client, author, **body), 422)
    assert len(problem_body["errors"]) == ERRORS_SHOWN
    assert "errors_omitted" not in problem_body


def test_nul_characters_in_many_keys_get_the_same_cap(client, author):
    body = {"title": "t", "body": "b"} | {f"f{n}\x00": 1 for n in range(5_000)}
    response = write_post(client, author, **body)
    problem_body = assert_problem(response, 422)
    assert len(problem_body["errors"]) == ERRORS_SHOWN
    assert problem_body["errors_omitted"] == 5_000 - ERRORS_SHOWN
    assert len(response.get_data()) < SMALL


def test_a_very_long_unknown_field_name_is_shown_cut_short(client, author):
    name = "x" * 500_000
    response = write_post(client, author, **{name: 1})
    problem_body = assert_problem(response, 422)
    [shown] = problem_body["errors"]
    assert len(shown) == NAME_SHOWN and shown == "x" * (NAME_SHOWN - 1) + "…"
    assert len(response.get_data()) < SMALL


def test_a_field_shows_at_most_a_few_messages(app):
    with app.test_request_context():
        response = problem(422, "Bad.", errors={"tags": [f"message {n}" for n in range(50)]})
    assert response.get_json()["errors"] == {
        "tags": [f"message {n}" for n in range(MESSAGES_SHOWN)]
    }


def test_the_document_gives_the_tag_list_its_limit(client):
    schema = client.get(f"{API}/openapi.json").get_json()["components"]["schemas"]
    assert schema["PostWrite"]["properties"]["tags"]["maxItems"] == 100
