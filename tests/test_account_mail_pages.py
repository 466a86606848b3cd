"""The pages a mailed link opens, over HTTP: the reset form and the verify button, their CSRF
protection, their errors as pages, and the HTML checked by the Nu HTML Checker."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support.account_mail import (
    NEW_PASSWORD,
    PASSWORD,
    delivered,
    forgot,
    link_in,
    login,
    signed_up,
    token_in,
)
from tests.support.apps import dispose, make_app
from tests.support.browser import nu_messages
from tests.support.mail import SmtpServer
from tests.support.site import BROWSER

pytestmark = pytest.mark.database_agnostic
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(params=[True, False], ids=["testing", "testing-off"])
def app(request: pytest.FixtureRequest, smtp_server: SmtpServer) -> Iterator[Flask]:
    """The app, its mail going to the test's SMTP server (also with TESTING off)."""
    made = make_app(testing=request.param, MAIL_URL=smtp_server.url)
    yield made
    dispose(made)


def reset_link(app, client, smtp_server) -> str:
    """Register ada, ask for a reset, and return the path of the mailed link."""
    signed_up(client, "ada")
    forgot(client, "ada@example.com")
    link = link_in(delivered(app, smtp_server, 2)[-1])
    return link[link.index("/reset-password") :]


def form_of(page) -> str:
    """The CSRF token of the form on a page."""
    found = CSRF.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return found.group(1)


def test_the_reset_form_sets_the_password_and_each_wrong_post_is_refused(app, client, smtp_server):
    path = reset_link(app, client, smtp_server)
    token = path.split("token=")[1]
    page = client.get(path, headers=BROWSER)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "ada" in page.get_data(as_text=True)
    csrf = form_of(page)
    good = {"csrf_token": csrf, "token": token, "password": NEW_PASSWORD}

    for form in (
        {k: v for k, v in good.items() if k != "csrf_token"} | {"password_again": NEW_PASSWORD},
        good | {"csrf_token": csrf[:-4] + "AAAA", "password_again": NEW_PASSWORD},
    ):
        refused = client.post("/reset-password", data=form, headers=BROWSER)
        assert refused.status_code == 403 and refused.mimetype == "text/html"
    cross_site = client.post(
        "/reset-password",
        data=good | {"password_again": NEW_PASSWORD},
        headers=BROWSER | {"Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403

    mismatch = client.post("/reset-password", data=good | {"password_again": "other"})
    assert mismatch.status_code == 422 and "differ" in mismatch.get_data(as_text=True)
    weak = client.post("/reset-password", data=good | {"password": "ada", "password_again": "ada"})
    assert weak.status_code == 422 and 'role="alert"' in weak.get_data(as_text=True)
    assert login(client, "ada").status_code == 200  # nothing changed yet

    done = client.post("/reset-password", data=good | {"password_again": NEW_PASSWORD})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "new password is set" in done.get_data(as_text=True)
    assert login(client, "ada", NEW_PASSWORD).status_code == 200
    assert login(client, "ada", PASSWORD).status_code == 401

    again = client.get(path, headers=BROWSER)
    assert again.status_code == 400 and again.mimetype == "text/html"
    assert "invalid or has expired" in again.get_data(as_text=True)
    assert "Traceback" not in again.get_data(as_text=True)


def test_a_page_for_a_bad_link_is_a_page_for_browsers_and_a_problem_for_programs(app, client):
    page = client.get("/reset-password?token=nonsense", headers=BROWSER)
    assert page.status_code == 400 and page.mimetype == "text/html"
    problem = client.get("/verify-email?token=nonsense")
    assert problem.status_code == 400 and problem.mimetype == "application/problem+json"
    assert client.get("/reset-password", headers=BROWSER).status_code == 400


def test_opening_the_verify_link_verifies_nothing_until_the_button(app, client, smtp_server):
    pair = signed_up(client, "ada")
    link = link_in(delivered(app, smtp_server, 1)[0])
    path = link[link.index("/verify-email") :]
    me = {"Authorization": f"Bearer {pair['access_token']}"}
    page = client.get(path, headers=BROWSER)
    assert page.status_code == 200 and "ada@example.com" in page.get_data(as_text=True)
    client.get(path)  # a mail scanner fetching the link
    assert client.get("/api/v1/auth/me", headers=me).get_json()["email_verified"] is False
    form = {"csrf_token": form_of(page), "token": token_in(delivered(app, smtp_server, 1)[0])}
    assert client.post("/verify-email", data={"token": form["token"]}).status_code == 403
    done = client.post("/verify-email", data=form, headers=BROWSER)
    assert done.status_code == 200 and "verified" in done.get_data(as_text=True)
    assert client.get("/api/v1/auth/me", headers=me).get_json()["email_verified"] is True


@pytest.mark.slow
def test_the_nu_html_checker_finds_no_error_on_the_account_pages(
    app, client, smtp_server, tmp_path
):
    if not app.testing:
        pytest.skip("once is enough")
    path = reset_link(app, client, smtp_server)
    verify_link = link_in(smtp_server.messages[0])
    pages = {
        "reset": client.get(path, headers=BROWSER),
        "verify": client.get(verify_link[verify_link.index("/verify-email") :], headers=BROWSER),
        "bad link": client.get("/reset-password?token=x", headers=BROWSER),
    }
    csrf = form_of(pages["reset"])
    form = {"csrf_token": csrf, "token": path.split("token=")[1], "password": NEW_PASSWORD}
    pages["mismatch"] = client.post("/reset-password", data=form | {"password_again": "x"})
    pages["done"] = client.post("/reset-password", data=form | {"password_again": NEW_PASSWORD})
    files = []
    for name, page in pages.items():
        files.append(tmp_path / f"{name.replace(' ', '-')}.html")
        files[-1].write_bytes(page.data)
    errors = [m for m in nu_messages(files) if m.get("type") == "error"]
    assert errors == [], errors
