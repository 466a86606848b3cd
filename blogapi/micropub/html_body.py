"""HTML content as a post's Markdown body, and back.

HTML a client sends is sanitized by the cleaner that makes every body_html, then stored as one
CommonMark HTML block, which Markdown passes through unchanged: no blank line outside <pre>
(one would end the block), the newlines of blank lines inside <pre> written `&#10;` (which
the cleaner writes back as newlines), and a `<div>` around it unless it starts with a tag that
opens such a block (the cleaner drops the <div> again); <b> and <i> become <strong> and <em>.
So the post's body_html is exactly the sanitized HTML, and its body shows the HTML as sent.
"""

from __future__ import annotations

import re

from blogapi.posts.markdown import render_markdown, sanitize_html

# Tags that open a CommonMark HTML block ending only at a blank line (type 6), among those
# the cleaner keeps; <pre> opens one that ends at its </pre>, so it needs the <div>.
BLOCK_START = re.compile(
    r"<(?:p|hr|blockquote|h[1-6]|ul|ol|li|table|thead|tbody|tr|th|td)(?:[\s/>])"
)
PRE = re.compile(r"(<pre>.*?</pre>)", re.S)
# <b> and <i>, which clients send for bold and italic, as the <strong> and <em> the cleaner
# keeps (it would unwrap them, losing the emphasis).
EMPHASIS = re.compile(r"<(/?)(b|i)(?=[\s/>])", re.I)
EMPHASIS_TAGS = {"b": "strong", "i": "em"}
BLANK_LINE = re.compile(r"\n[ \t]*(?=\n)")
BLANK_IN_PRE = re.compile(r"\n(?=[ \t]*\n)")


def html_to_body(html: str) -> str:
    """The Markdown body that renders to this HTML, sanitized ("" when nothing is left)."""
    emphasis = EMPHASIS.sub(lambda m: f"<{m[1]}{EMPHASIS_TAGS[m[2].lower()]}", html)
    clean = sanitize_html(emphasis).strip()
    parts = PRE.split(clean)  # odd indexes are the <pre> elements
    for index, part in enumerate(parts):
        parts[index] = (BLANK_IN_PRE if index % 2 else BLANK_LINE).sub(
            "&#10;" if index % 2 else "", part
        )
    body = "".join(parts)
    if body and not BLOCK_START.match(body):
        body = f"<div>{body}</div>"
    return body


def body_html(body: str) -> str:
    """A body rendered as its post shows it, less the newline that ends every rendering."""
    return render_markdown(body).removesuffix("\n")


def is_html_body(body: str) -> bool:
    """Whether a body is HTML stored by html_to_body: making it again from its own rendering
    gives it back (Markdown text does not survive the trip)."""
    return bool(body) and html_to_body(body_html(body)) == body
