"""A blog as a reader meets it: posts with code, images, tags and hostile titles, and the
reader pages parsed as HTML and microformats2."""

from __future__ import annotations

import json
import re
from typing import Any

import mf2py
from flask.testing import FlaskClient

from tests.support.accounts import Account
from tests.support.media import image_bytes, upload
from tests.support.posts import API, published_post

HOSTILE_TITLE = '<script>alert(1)</script> & "quotes" </script><!--'
RTL_TITLE = "مرحبا بالعالم 🎉 Hello"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
BODY = f"""A paragraph with `inline code` and a {LONG_WORD}.

```python
def greet(name: str) -> str:
    return "Hello, " + name + "! This line is long enough to need a horizontal scroll on a phone."
```

- a list item
- another, with [a link](https://example.org/)

![A red square]({{image}})
"""


def uploaded_image(client: FlaskClient, account: Account, alt: str = "A red cover") -> Any:
    """A wide PNG uploaded through the API; its JSON."""
    reply = upload(client, account, image_bytes("PNG", (1200, 630), color=(180, 40, 40)), alt=alt)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def rich_post(client: FlaskClient, account: Account, **fields: Any) -> dict[str, Any]:
    """A published post with a code block, an image in its body, tags and a feature image."""
    cover = uploaded_image(client, account)
    values = {
        "title": RTL_TITLE,
        "summary": "A post with everything a reader page must show.",
        "body": BODY.replace("{image}", cover["url"]),
        "tags": ["Python", "Web Dev"],
        "feature_image_id": cover["id"],
    } | fields
    return published_post(client, account, **values)


def set_profile(client: FlaskClient, account: Account, **fields: str) -> None:
    """PATCH /auth/me (display_name, bio)."""
    response = client.patch(f"{API}/auth/me", json=fields, headers=account.headers)
    assert response.status_code == 200, response.get_json()


def items_of(html: str, url: str, kind: str) -> list[dict[str, Any]]:
    """The top-level microformats of one type in a page, as mf2py parses them."""
    parsed = mf2py.parse(doc=html, url=url)
    return [item for item in parsed["items"] if kind in item["type"]]


def json_ld(html: str) -> Any:
    """The JSON-LD data block of a page (there is one at most)."""
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1, blocks
    return json.loads(blocks[0])


def meta_content(html: str, attribute: str, name: str) -> list[str]:
    """The content of every <meta property|name="…"> with this name, as a parser reads it."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Metas(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if tag == "meta" and values.get(attribute) == name:
                found.append(values.get("content") or "")

    Metas().feed(html)
    return found
