"""Atom 1.0 (RFC 4287) and RSS 2.0 feeds of a FeedSource, written by feedgen.

feedgen (with lxml and dateutil, about 6 MB) is imported when a feed is first written, so a
worker that serves no feed does not carry it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blogapi.db.models import Post
from blogapi.site import links
from blogapi.site.content import changed_at
from blogapi.site.feed_source import GENERATOR, FeedSource, image_url
from blogapi.web.urls import external_url

if TYPE_CHECKING:
    from feedgen.entry import FeedEntry

ATOM_TYPE = "application/atom+xml"
RSS_TYPE = "application/rss+xml"


class EntryLinks:
    """A feedgen entry extension writing an Atom entry's links whole: feedgen 1.0's own entry
    links lose every attribute but href (lkiesow/python-feedgen#135), which turns an
    enclosure into a second alternate link, and the entry into an invalid one."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def add(self, **attributes: str) -> None:
        """One more link (href, rel, type, length)."""
        self.links.append(attributes)

    def extend_ns(self) -> dict[str, str]:
        """No namespace of its own: these are Atom's links."""
        return {}

    def extend_atom(self, entry: Any) -> Any:
        """Write the links into the entry's element."""
        from feedgen.util import xml_elem

        for attributes in self.links:
            xml_elem("link", entry, **attributes)
        return entry

    def extend_rss(self, item: Any) -> Any:
        """RSS items take their link and enclosure from feedgen itself."""
        return item


def atom_feed(source: FeedSource) -> bytes:
    """The feed as an Atom document."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(source.self_url("atom"))
    feed.title(source.title)
    if source.description:
        feed.subtitle(source.description)
    feed.language(source.language)
    feed.updated(source.updated_or_never)
    # The blog itself authors the feed: Atom asks for a feed-level author whenever an entry
    # could lack one, and an empty feed has no entries to carry it.
    feed.author(name=source.title, uri=source.home)
    feed.link(href=source.self_url("atom"), rel="self", type=ATOM_TYPE)
    feed.link(href=source.alternate, rel="alternate", type="text/html")
    feed.generator(GENERATOR, uri=source.home)
    for post in source.posts:
        atom_entry(feed.add_entry(order="append"), post)
    result: bytes = feed.atom_str(pretty=False)
    return result


def atom_entry(entry: FeedEntry, post: Post) -> None:
    """One post as an Atom entry."""
    entry.register_extension("whole_links", EntryLinks, atom=True, rss=False)
    entry.id(links.entry_id(post))
    entry.title(post.title)
    entry.whole_links.add(href=links.post_url(post), rel="alternate", type="text/html")
    entry.author(name=post.author.public_name, uri=links.author_url(post.author.username))
    entry.content(post.body_html, type="html")
    if post.summary:
        entry.summary(post.summary)
    entry.published(post.published_at)
    entry.updated(changed_at(post))
    scheme = external_url("/tags/")
    for tag in post.tags:
        entry.category(term=tag.slug, label=tag.name, scheme=scheme)
    image = post.feature_image
    if image is not None:
        entry.whole_links.add(
            href=image_url(image), rel="enclosure", type=image.content_type, length=str(image.bytes)
        )


def rss_feed(source: FeedSource) -> bytes:
    """The feed as an RSS 2.0 document."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.title(source.title)
    # RSS requires a description; a blog without SITE_DESCRIPTION is described by its title.
    feed.description(source.description or source.title)
    # feedgen makes the last link given the channel's <link>: the HTML page, after self.
    feed.link(href=source.self_url("rss"), rel="self", type=RSS_TYPE)
    feed.link(href=source.alternate, rel="alternate")
    feed.language(source.language)
    feed.lastBuildDate(source.updated_or_never)
    feed.generator(GENERATOR)
    for post in source.posts:
        rss_item(feed.add_entry(order="append"), post)
    result: bytes = feed.rss_str(pretty=False)
    return result


def rss_item(item: FeedEntry, post: Post) -> None:
    """One post as an RSS item: summary as description, the whole body as content:encoded."""
    item.title(post.title)
    item.link(href=links.post_url(post), rel="alternate")
    item.guid(links.entry_id(post), permalink=False)
    # RSS's own <author> must be an email address, which readers never see: dc:creator names.
    item.dc.dc_creator(post.author.public_name)
    item.content(post.body_html, type="html")
    item.description(post.summary or post.title, isSummary=True)
    item.published(post.published_at)
    domain = external_url("/tags/")
    for tag in post.tags:
        item.category(term=tag.slug, scheme=domain)
    image = post.feature_image
    if image is not None:
        item.enclosure(image_url(image), str(image.bytes), image.content_type)
