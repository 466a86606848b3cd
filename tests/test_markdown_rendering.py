"""Stories about turning the Markdown authors type into safe HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blogapi.posts.markdown import render_markdown

LINK_REL = "nofollow noopener noreferrer"
ALLOWED_TAGS = {
    *(f"h{level}" for level in range(1, 7)),
    "p",
    "br",
    "hr",
    "blockquote",
    "pre",
    "code",
    "em",
    "strong",
    "del",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
}
SAFE_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href"}


class _Element:
    """One start tag seen in rendered HTML."""

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}


class _Collector(HTMLParser):
    """Gather every element of an HTML fragment, with attribute values decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[_Element] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(_Element(tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(_Element(tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements_of(html: str) -> list[_Element]:
    """Parse HTML the way a page would and return its elements."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def url_scheme(url: str) -> str | None:
    """Return the scheme a browser would see in url, lowercased, or None if relative."""
    # WHATWG URL parsing trims C0 controls and spaces, then drops tabs and newlines.
    trimmed = url.strip("".join(map(chr, range(0x21))))
    trimmed = re.sub(r"[\t\n\r]", "", trimmed)
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.\-]*):", trimmed)
    return match.group(1).lower() if match else None


def squashed(url: str) -> str:
    """Return url lowercased with every whitespace and control character removed."""
    return "".join(ch for ch in url if ch.isprintable() and not ch.isspace()).lower()


def assert_safe(html: str) -> None:
    """Fail if the HTML could run script or load a dangerous URL."""
    assert "<script" not in html.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", html, re.IGNORECASE)
    for element in elements_of(html):
        assert element.tag in ALLOWED_TAGS, element.tag
        for name, value in element.attrs.items():
            assert not name.startswith("on"), (element.tag, name)
            assert name != "style", element.tag
            if name in URL_ATTRIBUTES:
                assert url_scheme(value) in SAFE_SCHEMES | {None}, value
                assert not squashed(value).startswith(("javascript:", "vbscript:", "data:")), value


# --- Authors write ordinary Markdown and get ordinary HTML --------------------


def test_headings_and_paragraphs_render_as_html() -> None:
    html = render_markdown("# Title\n\n## Part two\n\nSome *soft* and **loud** words.")

    assert "<h1>Title</h1>" in html
    assert "<h2>Part two</h2>" in html
    assert "<p>Some <em>soft</em> and <strong>loud</strong> words.</p>" in html


def test_code_blocks_show_html_as_text_instead_of_running_it() -> None:
    html = render_markdown("```html\n<script>alert(1)</script>\n```")

    assert html.startswith("<pre><code>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert_safe(html)


def test_inline_code_keeps_angle_brackets_escaped() -> None:
    assert render_markdown("Use `<em>` sparingly") == (
        "<p>Use <code>&lt;em&gt;</code> sparingly</p>\n"
    )


def test_tables_render_with_alignment_as_a_plain_attribute() -> None:
    html = render_markdown("| Left | Right |\n|:-----|------:|\n| a | b |")

    cells = [e for e in elements_of(html) if e.tag in {"th", "td"}]
    assert [c.attrs.get("align") for c in cells] == ["left", "right"] * 2
    assert "style" not in html
    assert "<thead>" in html and "<tbody>" in html


def test_strikethrough_lists_quotes_and_rules_survive() -> None:
    html = render_markdown("~~old~~\n\n> quoted\n\n---\n\n3. three\n4. four\n\n- dot")

    assert "<del>old</del>" in html  # GFM spells strikethrough <del>
    assert "<blockquote>" in html
    assert "<hr>" in html
    assert '<ol start="3">' in html
    assert "<ul>\n<li>dot</li>" in html


def test_allowed_raw_html_passes_through() -> None:
    html = render_markdown("E = mc<sup>2</sup> and H<sub>2</sub>O<br>next")

    assert "<sup>2</sup>" in html
    assert "<sub>2</sub>" in html
    assert "<br>" in html


@pytest.mark.parametrize(
    "source",
    [
        "[site](https://example.com)",
        "<https://example.com>",
        '<a href="https://example.com" rel="opener" target="_blank">site</a>',
    ],
)
def test_every_link_gets_nofollow_noopener_noreferrer(source: str) -> None:
    [link] = [e for e in elements_of(render_markdown(source)) if e.tag == "a"]

    assert link.attrs["href"] == "https://example.com"
    assert link.attrs["rel"] == LINK_REL
    assert "target" not in link.attrs


def test_links_keep_titles_and_relative_and_mailto_targets() -> None:
    html = render_markdown('[about](/about "About us") [here](#top) [mail](mailto:me@example.com)')

    links = [e.attrs for e in elements_of(html) if e.tag == "a"]
    assert [link["href"] for link in links] == [
        "/about",
        "#top",
        "mailto:me@example.com",
    ]
    assert links[0]["title"] == "About us"


def test_images_keep_src_alt_and_title() -> None:
    html = render_markdown('![A cat](https://example.com/cat.png "Meow")')

    [image] = [e for e in elements_of(html) if e.tag == "img"]
    assert image.attrs == {
        "src": "https://example.com/cat.png",
        "alt": "A cat",
        "title": "Meow",
    }


def test_unlisted_attributes_like_class_and_id_are_dropped() -> None:
    html = render_markdown('<p id="x" class="y" style="color:red">hi</p>')

    assert html == "<p>hi</p>\n"  # cmark ends every block, raw HTML too, with a newline


# --- Attackers write Markdown too ---------------------------------------------

XSS_PAYLOADS = {
    "script tag": "<script>alert(1)</script>",
    "uppercase script with src": "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "markdown javascript link": "[x](javascript:alert(1))",
    "mixed-case javascript link": "[x](JaVaScRiPt:alert(1))",
    "entity inside markdown link": "[x](java&#x73;cript:alert(1))",
    "pointy-bracket markdown link": "[x](<javascript:alert(1)>)",
    "reference-style link": "[x][evil]\n\n[evil]: javascript:alert(1)",
    "autolink": "<javascript:alert(1)>",
    "markdown image with javascript src": "![x](javascript:alert(1))",
    "leading spaces in href": '<a href="  javascript:alert(1)">x</a>',
    "tab inside scheme": '<a href="java\tscript:alert(1)">x</a>',
    "encoded tab inside scheme": '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "newline inside scheme": '<a href="java\nscript:alert(1)">x</a>',
    "control character before scheme": '<a href="\x01javascript:alert(1)">x</a>',
    "NUL inside scheme": '<a href="java\x00script:alert(1)">x</a>',
    "fully entity-encoded href": '<a href="&#106;&#97;&#118;&#97;&#115;&#99;'
    '&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    "named colon entity": '<a href="javascript&colon;alert(1)">x</a>',
    "vbscript": '<a href="vbscript:msgbox(1)">x</a>',
    "data html link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data svg image": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "raw data img": '<img src="data:image/png;base64,iVBORw0KGgo=">',
    "svg onload": "<svg onload=alert(1)><circle r=1></circle></svg>",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "iframe": '<iframe src="javascript:alert(1)"></iframe>',
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "style tag": "<style>body{background:url(javascript:alert(1))}</style>",
    "style attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "math href": '<math href="javascript:alert(1)">click</math>',
    "math mglyph mutation": "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "noscript title mutation": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "details ontoggle": "<details open ontoggle=alert(1)>x</details>",
    "onclick on allowed tag": '<p onclick="alert(1)">x</p>',
    "onmouseover in link": '<a href="https://e.x" onmouseover="alert(1)">x</a>',
    "object data": '<object data="javascript:alert(1)"></object>',
    "embed": '<embed src="javascript:alert(1)">',
    "form action": "<form action=javascript:alert(1)><button>go</button></form>",
    "button formaction": '<button formaction="javascript:alert(1)">go</button>',
    "meta refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "base href": '<base href="javascript:alert(1)//">',
    "commented-out script": "<!--<script>alert(1)</script>-->",
    "table cell align injection": '<table><tr><td align="x onmouseover=alert(1)">'
    "a</td></tr></table>",
    "unclosed attribute": '<img src="x" alt="y onerror=alert(1)//',
}


@pytest.mark.parametrize("payload", XSS_PAYLOADS.values(), ids=XSS_PAYLOADS.keys())
def test_xss_payloads_come_out_harmless(payload: str) -> None:
    assert_safe(render_markdown(payload))


@pytest.mark.parametrize(
    "payload",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java&#x73;cript:alert(1))",
        '<a href="  javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_dangerous_links_lose_their_href_or_never_become_links(payload: str) -> None:
    links = [e for e in elements_of(render_markdown(payload)) if e.tag == "a"]

    assert all("href" not in link.attrs for link in links)


def test_script_content_is_removed_not_just_its_tags() -> None:
    html = render_markdown("before<script>steal()</script>after")

    assert "steal" not in html
    assert "before" in html and "after" in html


def test_images_with_dangerous_sources_keep_only_their_alt_text() -> None:
    html = render_markdown('<img src="javascript:alert(1)" alt="pic">')

    [image] = [e for e in elements_of(html) if e.tag == "img"]
    assert image.attrs == {"alt": "pic"}


SPICY_FRAGMENTS = st.sampled_from(
    [
        "<",
        ">",
        '"',
        "'",
        "`",
        "=",
        "&",
        "#",
        ";",
        "\n",
        " ",
        "\t",
        "\x00",
        "[",
        "](",
        ")",
        "!",
        "<script>",
        "</script>",
        "<img src=x ",
        "onerror=",
        "onload=alert(1)",
        "javascript:",
        "JaVaScRiPt:",
        "&#x6a;",
        "data:",
        "<svg",
        "<math>",
        "<style>",
        "<iframe",
        "<a href=",
        "<!--",
        "-->",
        "```",
        "    ",
        "| a |\n|---|\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(SPICY_FRAGMENTS | st.text()).map("".join)))
def test_no_input_produces_script_or_event_handlers(source: str) -> None:
    assert_safe(render_markdown(source))
