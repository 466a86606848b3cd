"""The sitemap (sitemaps.org 0.9): the front page, every tag page with a published post and
every published post; past URLS_PER_SITEMAP URLs, an index of numbered parts instead."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import load_only

from blogapi.db.models import Post, Tag, post_tags
from blogapi.extensions import db
from blogapi.posts.access import live
from blogapi.site import links
from blogapi.site.content import changed_at
from blogapi.timeutil import isoformat_z, request_now
from blogapi.web.paging import page_count
from blogapi.web.urls import API_PREFIX, external_url

SITEMAP_TYPE = "application/xml"
URLS_PER_SITEMAP = 50_000  # the protocol's limit per file (tests lower it)
CHUNK = 1000  # posts read from the database at a time
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<{{root}} xmlns="{NAMESPACE}">\n'

Url = tuple[str, datetime | None]  # an address and when it last changed


@dataclass(frozen=True)
class Section:
    """A run of the sitemap's URLs: how many, and how to read `limit` of them from `offset`."""

    count: int
    read: Callable[[int, int], Iterator[Url]]


def published() -> list[ColumnElement[bool]]:
    """The posts readers see now."""
    return [live(), Post.published_at <= request_now()]


def newest(updated: datetime | None, published_at: datetime | None) -> datetime | None:
    """The later of a newest edit and a newest going-live (either may be missing)."""
    return max((t for t in (updated, published_at) if t is not None), default=None)


def home_urls(offset: int, limit: int) -> Iterator[Url]:
    """The front page, changed when its newest post did."""
    row = db.session.execute(
        select(func.max(Post.updated_at), func.max(Post.published_at)).where(*published())
    ).one()
    yield links.home_url(), newest(*row)


def tag_urls(offset: int, limit: int) -> Iterator[Url]:
    """Tag pages in slug order, each changed when its newest post did."""
    query = (
        select(Tag.slug, func.max(Post.updated_at), func.max(Post.published_at))
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .join(Post, Post.id == post_tags.c.post_id)
        .where(*published())
        .group_by(Tag.slug)
        .order_by(Tag.slug)
        .offset(offset)
        .limit(limit)
    )
    for slug, updated, published_at in db.session.execute(query):
        yield links.tag_url(slug), newest(updated, published_at)


def post_urls(offset: int, limit: int) -> Iterator[Url]:
    """Published posts in id order, read CHUNK at a time (never all at once)."""
    query = (
        select(Post)
        .options(load_only(Post.slug, Post.updated_at, Post.published_at))
        .where(*published())
        .order_by(Post.id)
        .offset(offset)
        .limit(limit)
        .execution_options(yield_per=CHUNK)
    )
    for post in db.session.scalars(query):
        yield links.post_url(post), changed_at(post)


def sections() -> list[Section]:
    """The sitemap's URLs in order: the front page, tag pages, posts."""
    tags = select(func.count(func.distinct(post_tags.c.tag_id))).join(
        Post, Post.id == post_tags.c.post_id
    )
    posts = select(func.count()).select_from(Post)
    return [
        Section(1, home_urls),
        Section(db.session.scalar(tags.where(*published())) or 0, tag_urls),
        Section(db.session.scalar(posts.where(*published())) or 0, post_urls),
    ]


def urls_between(parts: list[Section], start: int, stop: int) -> Iterator[Url]:
    """The URLs at positions start..stop-1 of the whole sitemap."""
    for section in parts:
        if start < section.count and stop > 0:
            yield from section.read(max(start, 0), min(stop, section.count) - max(start, 0))
        start, stop = start - section.count, stop - section.count


def urlset(urls: Iterator[Url]) -> bytes:
    """A sitemap file of these URLs."""
    chunks = [HEAD.format(root="urlset")]
    for loc, lastmod in urls:
        changed = (
            f"<lastmod>{isoformat_z(lastmod, 'seconds')}</lastmod>" if lastmod is not None else ""
        )
        chunks.append(f"<url><loc>{escape(loc)}</loc>{changed}</url>\n")
    chunks.append("</urlset>\n")
    return "".join(chunks).encode()


def part_count(parts: list[Section]) -> int:
    """How many files the sitemap takes (1: no index)."""
    return page_count(sum(section.count for section in parts), URLS_PER_SITEMAP)


def sitemap() -> bytes:
    """/sitemap.xml: every URL, or past the limit, the index of the parts."""
    parts = sections()
    count = part_count(parts)
    if count == 1:
        return urlset(urls_between(parts, 0, URLS_PER_SITEMAP))
    chunks = [HEAD.format(root="sitemapindex")]
    for number in range(1, count + 1):
        loc = escape(external_url(f"/sitemap-{number}.xml"))
        chunks.append(f"<sitemap><loc>{loc}</loc></sitemap>\n")
    chunks.append("</sitemapindex>\n")
    return "".join(chunks).encode()


def sitemap_part(number: int) -> bytes | None:
    """/sitemap-<number>.xml, one part of an indexed sitemap (None: no such part)."""
    parts = sections()
    count = part_count(parts)
    if count == 1 or number > count:
        return None
    start = (number - 1) * URLS_PER_SITEMAP
    return urlset(urls_between(parts, start, start + URLS_PER_SITEMAP))


def robots_txt() -> str:
    """/robots.txt: crawl everything but the JSON API; the sitemap is here."""
    every_version = API_PREFIX.rsplit("/", 1)[0] + "/"  # /api/, not only /api/v1/
    api = urlsplit(external_url(every_version)).path  # under SITE_URL's path, if it has one
    return f"User-agent: *\nDisallow: {api}\n\nSitemap: {external_url('/sitemap.xml')}\n"
