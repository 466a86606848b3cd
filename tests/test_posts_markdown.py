"""Bodies are Markdown; body_html is rendered once, when the post is written, and always safe."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

import blogapi.posts.service as post_service
from tests.support.posts import API, new_post, published_post

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"><circle/></svg>',
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onclick="alert(1)">x</p>',
    "<object data=evil.swf></object>",
    '<form action="https://evil.example"><input name=q></form>',
    "<math><mtext><script>alert(1)</script></mtext></math>",
    "<!-- <script>alert(1)</script> -->",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "`<script>` in code is text",
]
SAFE_TAGS = {"p", "a", "img", "code", "pre", "em", "strong", "br", "hr", "blockquote"}
SAFE_SCHEMES = {"", "http", "https", "mailto"}


class Elements(HTMLParser):
    """Every start tag in a piece of HTML, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def assert_safe(html: str) -> None:
    """Only harmless elements; no handlers, no styles, no scriptable URLs."""
    parser = Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag in SAFE_TAGS, html
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", html
            if name in ("href", "src"):  # relative, or one of the safe schemes
                assert urlsplit((value or "").strip()).scheme.lower() in SAFE_SCHEMES, html
    assert "<script" not in html.lower()


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_come_out_sanitized(client, author, payload):
    post = published_post(client, author, body=f"Before\n\n{payload}\n\nAfter")
    html = client.get(f"{API}/posts/{post['id']}").get_json()["body_html"]
    assert_safe(html)
    assert "After" in html
    assert post["body"] == f"Before\n\n{payload}\n\nAfter"  # the Markdown is kept as written


def test_code_keeps_angle_brackets_as_text(client, author):
    post = new_post(client, author, body="`<script>` in code")
    assert post["body_html"] == "<p><code>&lt;script&gt;</code> in code</p>\n"


def test_links_get_a_safe_rel(client, author):
    post = new_post(client, author, body="[site](https://example.com)")
    assert 'rel="nofollow noopener noreferrer"' in post["body_html"]


def test_body_html_is_rendered_on_write_not_on_read(monkeypatch, client, author):
    calls: list[str] = []
    real = post_service.render_markdown

    def counting(source: str) -> str:
        calls.append(source)
        return real(source)

    monkeypatch.setattr(post_service, "render_markdown", counting)
    post = published_post(client, author, body="*once*")
    assert calls == ["*once*"]
    for _ in range(3):
        client.get(f"{API}/posts/{post['id']}")
        client.get(f"{API}/posts")
    client.patch(f"{API}/posts/{post['id']}", json={"title": "t"}, headers=author.headers)
    assert calls == ["*once*"]  # a title change does not re-render either
    client.patch(f"{API}/posts/{post['id']}", json={"body": "*twice*"}, headers=author.headers)
    assert calls == ["*once*", "*twice*"]
