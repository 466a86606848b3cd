"""Micropub through the test client: tokens and roles, bad input (always Micropub's error
body, never problem+json or a 500), update rules, drafts, and discovery."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select

from blogapi.db.models import User
from blogapi.extensions import db
from tests.support.micropub import (
    MICROPUB,
    bearer,
    create,
    expire,
    micropub_error,
    personal_token,
    source,
)


@pytest.fixture
def writer(client, make_account):
    """An author, and a token of theirs with every Micropub scope."""
    account = make_account("author")
    return account, bearer(personal_token(client, account)[0])


def note(**properties: Any) -> dict[str, Any]:
    """A JSON create of a note saying "x", with more properties."""
    return {"type": ["h-entry"], "properties": {"content": ["x"], **properties}}


INSIDE = "inside a network"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": ["h-event"], "properties": {"name": ["Party"]}}, "h-entry"),
        (note(content=[42]), "content"),
        (note(published=["yesterday"]), "published"),
        (note(published=["2026-11-30T10:00:00"]), "published"),
        (note(category=[f"t{n}" for n in range(1000)]), "category"),
        (note(photo=["http://127.0.0.1/a.jpg"]), INSIDE),
        (note(photo=["http://[::1]/a.jpg"]), INSIDE),
        (note(photo=["http://10.1.2.3/a.jpg"]), INSIDE),
        (note(photo=["http://169.254.169.254/"]), INSIDE),
        (note(photo=["http://db.internal/a.jpg"]), INSIDE),
        (note(photo=["http://0x7f.1/a.jpg"]), INSIDE),
        (note(photo=["file:///etc/passwd"]), "http"),
        (note(photo=[f"https://example.com/{n}.jpg" for n in range(21)]), "at most 20"),
        (note(**{"post-status": ["secret"]}), "post-status"),
        (note(**{"mp-slug": ["Not A Slug"]}), "mp-slug"),
        ({"type": ["h-entry"], "properties": "content"}, "properties"),
        ({"action": "frobnicate", "url": "http://localhost/posts/x"}, "Unsupported action"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_input_is_a_400_in_micropubs_body(client, writer, body, message):
    account, headers = writer
    response = client.post(MICROPUB, json=body, headers=headers)
    assert message in micropub_error(response, 400, "invalid_request")["error_description"]
    listed = client.get("/api/v1/posts", query_string={"status": "all"}, headers=account.headers)
    assert listed.get_json()["items"] == []


def test_malformed_json_and_wrong_types_are_refused_in_micropubs_body(client, writer):
    _account, headers = writer
    json_type = {**headers, "Content-Type": "application/json"}
    micropub_error(
        client.post(MICROPUB, data=b'{"type": [', headers=json_type), 400, "invalid_request"
    )
    micropub_error(
        client.post(MICROPUB, data=b"<entry/>", headers={**headers, "Content-Type": "text/xml"}),
        415,
        "invalid_request",
    )
    micropub_error(
        client.post("/micropub/media", data={"h": "entry"}, headers=headers), 415, "invalid_request"
    )
    micropub_error(client.delete(MICROPUB, headers=headers), 405, "invalid_request")
    micropub_error(client.get("/micropub/nothing", headers=headers), 404, "invalid_request")
    micropub_error(
        client.get(MICROPUB, query_string={"q": "everything"}, headers=headers),
        400,
        "invalid_request",
    )
    boundary = "b0undary"
    nameless = f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{boundary}--\r\n"
    multipart = {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    micropub_error(client.post(MICROPUB, data=nameless, headers=multipart), 400, "invalid_request")
    big = {"h": "entry", "content": "x" * (2 * 1024 * 1024)}
    micropub_error(client.post(MICROPUB, data=big, headers=headers), 413, "invalid_request")


def test_a_server_error_is_in_micropubs_body_too(app, writer, monkeypatch):
    from blogapi.micropub import resources

    def broken(*_args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(resources, "create_entry", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _account, headers = writer
    response = app.test_client().post(
        MICROPUB, data={"h": "entry", "content": "x"}, headers=headers
    )
    micropub_error(response, 500, "server_error")


def test_tokens_one_placement_a_pat_and_the_scope_the_action_needs(app, client, writer):
    account, headers = writer
    token = headers["Authorization"].split()[1]
    form = {"h": "entry", "content": "Hello"}
    micropub_error(
        client.post(MICROPUB, data={**form, "access_token": token}, headers=headers),
        400,
        "invalid_request",
    )
    micropub_error(client.post(MICROPUB, data=form), 401, "unauthorized")
    jwt = micropub_error(
        client.post(MICROPUB, data=form, headers=account.headers), 401, "unauthorized"
    )
    assert "personal access token" in jwt["error_description"]
    media_only = bearer(personal_token(client, account, ("media",))[0])
    refused = client.post(MICROPUB, data=form, headers=media_only)
    assert micropub_error(refused, 401, "insufficient_scope")["scope"] == "create"
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    url = create(client, headers, content=["Mine"])
    for action, scope in (("update", "update"), ("delete", "delete"), ("undelete", "delete")):
        body = {"action": action, "url": url, "replace": {"content": ["x"]}}
        sent = client.post(MICROPUB, json=body, headers=media_only)
        assert micropub_error(sent, 401, "insufficient_scope")["scope"] == scope


def test_revoked_and_expired_tokens_are_401(app, client, writer):
    account, headers = writer
    secret, token_id = personal_token(client, account)
    expire(app, token_id)
    micropub_error(
        client.get(MICROPUB, query_string={"q": "config"}, headers=bearer(secret)),
        401,
        "unauthorized",
    )
    secret, token_id = personal_token(client, account)
    assert (
        client.delete(f"/api/v1/auth/tokens/{token_id}", headers=account.headers).status_code == 204
    )
    revoked = client.post(MICROPUB, data={"h": "entry", "content": "x"}, headers=bearer(secret))
    micropub_error(revoked, 401, "unauthorized")
    assert client.get(MICROPUB, query_string={"q": "config"}, headers=headers).status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == account.username))
        user.revoke_all_tokens()
        db.session.commit()
    micropub_error(
        client.get(MICROPUB, query_string={"q": "config"}, headers=headers), 401, "unauthorized"
    )


def test_roles_decide_what_a_token_may_do(app, client, writer, make_account):
    _author, headers = writer
    url = create(client, headers, content=["The author's post"])
    other = make_account("author")
    theirs = bearer(personal_token(client, other)[0])
    for body in (
        {"action": "update", "url": url, "replace": {"content": ["Mine now"]}},
        {"action": "delete", "url": url},
    ):
        micropub_error(client.post(MICROPUB, json=body, headers=theirs), 403, "forbidden")
    assert source(client, headers, url)["content"] == ["The author's post"]
    contributor = make_account("contributor")
    drafts = bearer(personal_token(client, contributor)[0])
    refused = client.post(MICROPUB, data={"h": "entry", "content": "Publish me"}, headers=drafts)
    micropub_error(refused, 403, "forbidden")
    draft = create(client, drafts, content=["A draft"], **{"post-status": ["draft"]})
    assert source(client, drafts, draft)["post-status"] == ["draft"]
    micropub_error(
        client.get(MICROPUB, query_string={"q": "source", "url": draft}, headers=theirs),
        400,
        "invalid_request",
    )
    unknown = {
        "action": "update",
        "url": "http://localhost/posts/nothing-here",
        "replace": {"name": ["x"]},
    }
    micropub_error(client.post(MICROPUB, json=unknown, headers=headers), 400, "invalid_request")


def test_the_draft_scope_makes_drafts_and_future_published_schedules(app, client, writer):
    account, headers = writer
    drafts = bearer(personal_token(client, account, ("create", "update", "draft"))[0])
    url = create(client, drafts, content=["Kept a draft"])
    assert source(client, headers, url)["post-status"] == ["draft"]
    assert client.get(url.removeprefix("http://localhost")).status_code == 404
    changes = {"post-status": ["published"], "content": ["Changed"]}
    publish = {"action": "update", "url": url, "replace": changes}
    micropub_error(client.post(MICROPUB, json=publish, headers=drafts), 403, "forbidden")
    assert source(client, headers, url)["content"] == ["Kept a draft"]  # refused before writing
    assert client.post(MICROPUB, json=publish, headers=headers).status_code == 204
    assert client.get(url.removeprefix("http://localhost")).status_code == 200
    later = create(client, headers, content=["Later"], published=["2099-01-01T09:00:00+01:00"])
    post = client.get("/api/v1/posts/later", headers=account.headers).get_json()
    assert (post["status"], post["published_at"]) == ("scheduled", "2099-01-01T08:00:00Z")
    assert source(client, headers, later)["published"] == ["2099-01-01T08:00:00Z"]


def test_html_content_is_sanitized_and_kept_as_one_html_block(client, writer, author):
    account, headers = writer
    html = (
        '<p onclick="x()">Hi <b>there</b><script>alert(1)</script></p>\n\n\n'
        "<pre>line 1\n\n    indented\n</pre>\n\n<p>after</p>"
    )
    url = create(client, headers, content=[{"html": html}], name=["HTML"])
    post = client.get("/api/v1/posts/html", headers=account.headers).get_json()
    expected = "<p>Hi <strong>there</strong></p>\n<pre>line 1\n\n    indented\n</pre>\n<p>after</p>"
    assert post["body_html"] == expected + "\n"
    assert "\n\n" not in post["body"] and "&#10;" in post["body"]
    assert source(client, headers, url)["content"] == [{"html": expected}]
    inline = create(client, headers, content=[{"html": "just <i>text</i>"}])
    assert source(client, headers, inline)["content"] == [{"html": "just <em>text</em>"}]
    text = create(client, headers, content=["Plain *Markdown*"])
    assert source(client, headers, text)["content"] == ["Plain *Markdown*"]


def test_a_note_is_titled_by_its_first_words_and_keeps_no_name(client, writer):
    account, headers = writer
    words = "A note without a name says what it has to say in many small words, like this one"
    url = create(client, headers, content=[words])
    post = client.get(f"/api/v1/posts/{url.rsplit('/', 1)[1]}", headers=account.headers).get_json()
    assert post["title"] == "A note without a name says what it has to say in many small…"
    assert "name" not in source(client, headers, url)
    named = create(client, headers, content=["Body"], name=["A real title"])
    assert source(client, headers, named)["name"] == ["A real title"]


def test_update_changes_the_slug_and_answers_201_with_the_new_url(client, writer):
    _account, headers = writer
    url = create(client, headers, content=["Text"], name=["First"])
    body = {"action": "update", "url": url, "replace": {"mp-slug": ["second"], "name": ["Second"]}}
    moved = client.post(MICROPUB, json=body, headers=headers)
    assert (moved.status_code, moved.headers["Location"]) == (201, "http://localhost/posts/second")
    assert source(client, headers, moved.headers["Location"])["name"] == ["Second"]
    form = client.post(MICROPUB, data={"action": "update", "url": url}, headers=headers)
    micropub_error(form, 400, "invalid_request")


def test_the_front_page_and_author_pages_name_the_endpoint(client, writer):
    account, _headers = writer
    link = '<http://localhost/micropub>; rel="micropub"'
    for path in ("/", f"/authors/{account.username}", "/"):  # the second "/" from the cache
        page = client.get(path)
        assert link in page.headers["Link"].split(", ")
        assert '<link rel="micropub" href="http://localhost/micropub">' in page.get_data(
            as_text=True
        )
    tag_page = client.get("/tags/nothing")
    assert "Link" not in tag_page.headers


def commits_during(app, call):
    """How many transactions the app commits while `call` runs, and what it returned."""
    commits: list[object] = []
    with app.app_context():
        engine = db.engine
    listener = lambda connection: commits.append(connection)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        result = call()
    finally:
        event.remove(engine, "commit", listener)
    return len(commits), result


def test_a_published_entry_is_written_and_published_in_one_transaction(app, client, writer):
    _account, headers = writer
    assert client.get(MICROPUB, query_string={"q": "config"}, headers=headers).status_code == 200
    count, created = commits_during(
        app, lambda: client.post(MICROPUB, json=note(name=["Live at once"]), headers=headers)
    )
    assert created.status_code == 201
    assert count == 1  # never a draft committed first, then published
    url = created.headers["Location"]
    update = {
        "action": "update",
        "url": url,
        "replace": {"post-status": ["draft"], "name": ["Later"]},
    }
    count, changed = commits_during(
        app, lambda: client.post(MICROPUB, json=update, headers=headers)
    )
    assert changed.status_code in (201, 204)
    assert count == 1
    assert source(client, headers, changed.headers.get("Location", url))["post-status"] == ["draft"]
