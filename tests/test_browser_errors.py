"""A reader's browser that meets an error on the site gets a page saying so; programs, and
everyone under the API, get problem+json as ever (TESTING off, as in production)."""

from __future__ import annotations

import pytest

from blogapi.web.errors import ApiError
from tests.support.apps import make_app
from tests.support.problems import assert_problem

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
API = "/api/v1"


@pytest.fixture
def prod_app():
    """An app with TESTING off: errors are handled as in production."""
    return make_app(testing=False)


def assert_page(response, status: int) -> str:
    """An HTML error page with this status; its text."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert text.startswith("<!doctype html>") and '<html lang="en">' in text
    return text


def test_a_browser_on_a_missing_page_gets_a_page(prod_app):
    text = assert_page(prod_app.test_client().get("/no/such/page", headers=BROWSER), 404)
    assert "Not Found" in text and "problem" not in text


def test_programs_and_the_api_get_problems_whatever_they_accept(prod_app):
    client = prod_app.test_client()
    for path, headers in (
        ("/no/such/page", {}),
        ("/no/such/page", {"Accept": "*/*"}),
        ("/no/such/page", {"Accept": "application/json, text/html;q=0.9"}),
        (f"{API}/no/such/thing", BROWSER),
        (f"{API}/posts/none-such", BROWSER),
        ("/media/0123456789abcdef0123456789abcdef.png", BROWSER),
        ("/feed.nothing", BROWSER),
        ("/.well-known/nothing", BROWSER),
    ):
        assert_problem(client.get(path, headers=headers), 404)


def test_a_page_keeps_the_problems_status_and_headers(prod_app):
    client = prod_app.test_client()
    page = client.post("/no/such/page", headers=BROWSER)
    assert page.status_code in (404, 405)
    assert page.mimetype == "text/html"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_a_crash_behind_a_page_is_a_page_that_tells_nothing(prod_app):
    def explode():
        raise RuntimeError("secret internal state")

    prod_app.add_url_rule("/explodes", "explodes", explode)
    client = prod_app.test_client()
    text = assert_page(client.get("/explodes", headers=BROWSER), 500)
    assert "secret internal" not in text and "Traceback" not in text
    assert_problem(client.get("/explodes"), 500)


def test_headless_sites_answer_browsers_with_problems():
    client = make_app(testing=False, PUBLIC_SITE=False).test_client()
    assert_problem(client.get("/no/such/page", headers=BROWSER), 404)


def test_what_an_error_page_says_is_escaped(prod_app):
    def missing(slug: str):
        raise ApiError(404, f"No post {slug!r}.")

    prod_app.add_url_rule("/things/<slug>", "things", missing)
    client = prod_app.test_client()
    text = assert_page(client.get("/things/<script>alert(1)", headers=BROWSER), 404)
    assert "&lt;script&gt;alert(1)" in text and "<script>" not in text
