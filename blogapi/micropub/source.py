"""A post as Micropub's q=source gives it: its properties as mf2 JSON, the inverse of
entries.py (a note's made-up title is not a `name`; HTML bodies are `{"html": …}`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from blogapi.db.models import Post
from blogapi.media.service import media_url
from blogapi.micropub.entries import note_title
from blogapi.micropub.html_body import body_html, is_html_body
from blogapi.micropub.photos import split_photos
from blogapi.posts.service import load_post
from blogapi.posts.tags import spellings
from blogapi.site.links import post_url
from blogapi.timeutil import isoformat_z, request_now
from blogapi.web.urls import external_url


def slug_of(url: str) -> str | None:
    """The slug in a post's public URL on this site, or None for any other URL."""
    prefix = external_url("/posts/")
    plain = urlsplit(url)._replace(query="", fragment="").geturl()
    if not plain.startswith(prefix):
        return None
    slug = unquote(plain[len(prefix) :]).rstrip("/")
    return slug if slug and "/" not in slug else None


def post_at(url: str | None, *, trashed: bool = False) -> Post | None:
    """The live post (or, with `trashed`, the one in the trash) at a public URL."""
    slug = slug_of(url or "")
    return None if slug is None else load_post(slug, trashed=trashed)


def source_properties(post: Post) -> dict[str, list[Any]]:
    """Every property of the post, as a client would send them to make it again."""
    text, photos = split_photos(post.body)
    properties: dict[str, list[Any]] = {}
    if post.title != note_title(post.body):
        properties["name"] = [post.title]
    if text:
        properties["content"] = [{"html": body_html(text)} if is_html_body(text) else text]
    if post.summary:
        properties["summary"] = [post.summary]
    tags = spellings(post.id)
    if tags:
        properties["category"] = [tags[tag.slug] for tag in post.tags if tag.slug in tags]
    if post.published_at is not None:
        properties["published"] = [isoformat_z(post.published_at, "seconds")]
    published = post.status_at(request_now()) != "draft"
    properties["post-status"] = ["published" if published else "draft"]
    properties["mp-slug"] = [post.slug]
    shown: list[Any] = []
    if post.feature_image is not None:
        image = post.feature_image
        url = media_url(image.key)
        shown.append({"value": url, "alt": image.alt} if image.alt else url)
    shown += [{"value": p.url, "alt": p.alt} if p.alt else p.url for p in photos]
    if shown:
        properties["photo"] = shown
    properties["url"] = [post_url(post)]
    return properties


def source(post: Post, wanted: list[str]) -> dict[str, Any]:
    """q=source's answer: the whole h-entry, or only the properties asked for."""
    properties = source_properties(post)
    if wanted:
        return {"properties": {k: v for k, v in properties.items() if k in wanted}}
    return {"type": ["h-entry"], "properties": properties}
