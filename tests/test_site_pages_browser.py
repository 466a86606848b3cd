"""The reader pages as served by gunicorn in production, judged by tools nobody here wrote:
the Nu HTML Checker (vnu.jar) and axe-core in Chromium, which also shows what a reader's
browser does with them (no outside request, no console error, no CSP violation, no sideways
scroll on a 360 px phone)."""

from __future__ import annotations

import json
import secrets

import pytest
import requests

from devtools.chromium import CHROMIUM_ARGS
from devtools.live import (
    OPEN_REGISTRATION,
    LiveServer,
    LiveWorker,
    fresh_database_url,
    migrate,
    production_env,
)
from devtools.screenshots import SCHEMES, shoot, write_demo_post
from tests.support.browser import RECORD_VIOLATIONS, axe_violations, nu_messages, serious
from tests.support.mail import first_link, start_smtp_server, text_part
from tests.support.prerequisites import chromium_path
from tests.support.site import BROWSER, HOSTILE_TITLE, RTL_TITLE

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]
ERROR_PAGES = {"missing": 404, "reset-bad-link": 400}  # the pages that are not 200


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One production server with a rich post, an RTL and emoji title and a hostile one, and
    its worker mailing to an SMTP server (for the pages a mailed link opens); the paths of the
    pages to check and the status each answers with."""
    workdir = tmp_path_factory.mktemp("site")
    instance = workdir / "instance"
    instance.mkdir()
    smtp = start_smtp_server()
    env = production_env(
        fresh_database_url(workdir),
        RATELIMIT_ENABLED="false",
        BLOGAPI_INSTANCE_DIR=str(instance),
        MAIL_URL=f"{smtp.url}?starttls=false",
        **OPEN_REGISTRATION,
    )
    migrate(env)
    server = LiveServer(env, log_path=workdir / "gunicorn.log")
    with server, LiveWorker(server.env, log_path=workdir / "worker.log"):
        rich = write_demo_post(server.api, title=RTL_TITLE)
        hostile = write_demo_post(server.api, "mallory", title=HOSTILE_TITLE, tags=["Café"])
        forgot = requests.post(
            f"{server.api}/auth/password/forgot", json={"email": "ada@example.com"}, timeout=30
        )
        assert forgot.status_code == 202, forgot.text
        mailed = {str(m["Subject"]).split(" ")[0]: m for m in smtp.wait_for(3, timeout=30)}
        paths = {
            "home": "/",
            "post": f"/posts/{rich['slug']}",
            "hostile": f"/posts/{hostile['slug']}",
            "tag": "/tags/web-development",
            "author": "/authors/ada",
            "missing": "/posts/no-such-post",
            "reset": site_path(mailed["Reset"]),
            "reset-bad-link": "/reset-password?token=" + secrets.token_urlsafe(32),
            "verify": site_path(mailed["Confirm"]),
        }
        yield server, paths
    smtp.stop()


def site_path(message) -> str:
    """The path of the link a message holds (the page it opens)."""
    link = first_link(text_part(message))
    return link[link.index("/", len("http://")) :]


def test_the_nu_html_checker_finds_no_error_on_any_page(site, tmp_path):
    server, paths = site
    files = []
    for name, path in paths.items():
        response = requests.get(server.url + path, headers=BROWSER, timeout=30)
        assert response.status_code == ERROR_PAGES.get(name, 200), (name, response.text)
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        files.append(tmp_path / f"{name}.html")
        files[-1].write_bytes(response.content)
    errors = [m for m in nu_messages(files) if m.get("type") == "error"]
    assert errors == [], json.dumps(errors, indent=1, ensure_ascii=False)


def test_the_nu_html_checker_can_fail(tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<!doctype html><html lang=en><title>x</title><p><div></p>", "utf-8")
    assert [m for m in nu_messages([broken]) if m.get("type") == "error"]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_no_serious_violation_and_the_browser_stays_on_the_site(site, scheme):
    server, paths = site
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    executable = chromium_path()
    outside: list[str] = []
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 360, "height": 740})
        page.emulate_media(color_scheme=scheme)
        page.add_init_script(RECORD_VIOLATIONS)
        page.on(
            "request", lambda r: None if r.url.startswith(server.url) else outside.append(r.url)
        )
        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        found = {}
        for name, path in paths.items():
            page.set_extra_http_headers(BROWSER)
            page.goto(server.url + path, wait_until="networkidle")
            assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") == (
                scheme == "dark"
            )
            found[name] = {
                "violations": serious(axe_violations(page)),
                "csp": page.evaluate("window.__violations"),
                "scroll_width": page.evaluate("document.documentElement.scrollWidth"),
                "stylesheet": page.evaluate("getComputedStyle(document.body).marginTop"),
            }
        browser.close()
    for name, seen in found.items():
        assert seen["violations"] == [], (name, seen)
        assert seen["csp"] == [], (name, seen)
        assert seen["scroll_width"] <= 360, (name, seen)
        assert seen["stylesheet"] == "0px", (name, seen)  # the stylesheet was applied
    # The error pages' own statuses (a browser logs each), and nothing else.
    error_pages = [m for m in console if any(str(s) in m for s in ERROR_PAGES.values())]
    assert len(error_pages) == len(ERROR_PAGES), console
    assert [m for m in console if m not in error_pages] == [], console
    assert outside == []


def test_axe_and_the_csp_check_can_fail(site):
    """A page with an inline script and an unlabelled image: axe and the CSP listener see them."""
    server, _paths = site
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        page.goto(server.url + "/", wait_until="networkidle")
        page.evaluate(
            "document.body.insertAdjacentHTML('beforeend', '<img src=\"/assets/icon.svg\">');"
            "const s = document.createElement('script'); s.textContent = '1';"
            "document.body.appendChild(s);"
        )
        page.wait_for_function("window.__violations.length > 0")
        found = axe_violations(page)
        violations = page.evaluate("window.__violations")
        browser.close()
    assert "image-alt" in {v["id"] for v in found}
    assert any(v.startswith("script-src") for v in violations), violations


def test_screenshots_of_the_home_and_a_post_page(site, tmp_path):
    server, paths = site
    pages = {"home": paths["home"], "post": paths["post"]}
    saved = shoot(chromium_path(), server.url, pages, tmp_path)
    assert len(saved) == 8 and all(path.stat().st_size > 1000 for path in saved)
