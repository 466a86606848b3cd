"""What a page tells link previews and search engines: OpenGraph, Twitter card, JSON-LD."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from markupsafe import Markup

from blogapi.db.models import Media, Post
from blogapi.media.service import media_url
from blogapi.site.content import changed_at
from blogapi.site.links import author_url, post_url
from blogapi.site.pages import iso

DESCRIPTION_LENGTH = 200
# Inside <script>, "</script>" or "<!--" in a string would end or change the block: JSON
# allows these escapes, and a JSON-LD reader decodes them back.
SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})

Pairs = list[tuple[str, str]]


def shortened(text: str, length: int = DESCRIPTION_LENGTH) -> str:
    """`text` on one line, cut at a word before `length` characters (with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[: length - 1].rsplit(" ", 1)[0] + "…"


def post_description(post: Post) -> str:
    """A post's summary, or the start of its text."""
    return shortened(post.summary or post.body_text or post.title)


def image_pairs(image: Media | None) -> Pairs:
    """OpenGraph's og:image and its size and text, when there is an image."""
    if image is None:
        return []
    pairs = [
        ("og:image", media_url(image.key)),
        ("og:image:width", str(image.width)),
        ("og:image:height", str(image.height)),
    ]
    return pairs + ([("og:image:alt", image.alt)] if image.alt else [])


def opengraph(
    *, title: str, url: str, description: str, kind: str = "website", image: Media | None = None
) -> Pairs:
    """The og: properties of a page."""
    pairs = [
        ("og:title", title),
        ("og:type", kind),
        ("og:url", url),
        ("og:site_name", current_app.config["SITE_TITLE"]),
    ]
    if description:
        pairs.append(("og:description", description))
    return pairs + image_pairs(image)


def twitter_card(*, title: str, description: str, image: Media | None = None) -> Pairs:
    """The twitter: names (the rest comes from OpenGraph): a large image when there is one."""
    pairs = [("twitter:card", "summary_large_image" if image else "summary")]
    pairs.append(("twitter:title", title))
    if description:
        pairs.append(("twitter:description", description))
    if image is not None and image.alt:
        pairs.append(("twitter:image:alt", image.alt))
    return pairs


def article_pairs(post: Post) -> Pairs:
    """A post's og: article properties: when published and changed, and its tags."""
    pairs = [
        ("article:published_time", iso(post.published_at)),
        ("article:modified_time", iso(changed_at(post))),
    ]
    return pairs + [("article:tag", tag.name) for tag in post.tags]


def script_json(data: Any) -> Markup:
    """JSON to put inside a <script> element, with nothing that could close or change it."""
    return Markup(json.dumps(data, ensure_ascii=False).translate(SCRIPT_SAFE))


def blog_posting(post: Post) -> Markup:
    """The post as schema.org BlogPosting (JSON-LD)."""
    url = post_url(post)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": iso(post.published_at),
        "dateModified": iso(changed_at(post)),
        "author": {
            "@type": "Person",
            "name": post.author.public_name,
            "url": author_url(post.author.username),
        },
        "description": post_description(post),
        "keywords": [tag.name for tag in post.tags],
    }
    if post.feature_image is not None:
        image = post.feature_image
        data["image"] = {
            "@type": "ImageObject",
            "url": media_url(image.key),
            "width": image.width,
            "height": image.height,
        }
    return script_json(data)


def post_meta(post: Post) -> dict[str, Any]:
    """Everything a post page's head says about it besides its title and links."""
    description = post_description(post)
    image = post.feature_image
    graph = opengraph(
        title=post.title, url=post_url(post), description=description, kind="article", image=image
    )
    return {
        "description": description,
        "properties": graph + article_pairs(post),
        "names": twitter_card(title=post.title, description=description, image=image),
        "json_ld": blog_posting(post),
    }


def list_meta(*, title: str, url: str, description: str) -> dict[str, Any]:
    """Everything a list page's head says about it besides its title and links."""
    return {
        "description": description,
        "properties": opengraph(title=title, url=url, description=description),
        "names": twitter_card(title=title, description=description),
        "json_ld": None,
    }
