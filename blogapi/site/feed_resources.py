"""The feeds, the sitemap and robots.txt, at the site root (on with PUBLIC_SITE=false too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from flask_restful import Resource
from marshmallow import EXCLUDE, Schema, post_load, validate

from blogapi.accounts.schemas import USERNAME
from blogapi.posts.schemas import query_slug
from blogapi.posts.tags import TAG_MAX_LENGTH
from blogapi.site.content import last_modified
from blogapi.site.feed_source import FeedSource, feed_source
from blogapi.site.feeds import ATOM_TYPE, RSS_TYPE, atom_feed, rss_feed
from blogapi.site.jsonfeed import JSON_FEED_TYPE, json_feed
from blogapi.site.sitemap import SITEMAP_TYPE, robots_txt, sitemap, sitemap_part
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.fields import TrimmedString
from blogapi.web.public_cache import public_cache

TEXT = {"type": "string"}
XML = {"type": "string", "format": "binary"}  # bytes in their declared encoding (UTF-8)
CACHE_HEADERS = ("If-None-Match", "If-Modified-Since")
NOT_MODIFIED = Reply(None, "Your copy is current (If-None-Match or If-Modified-Since).", ("ETag",))


class FeedQuerySchema(Schema):
    """A feed's filters. Other parameters (a reader's tracking tags) are ignored."""

    class Meta:
        unknown = EXCLUDE

    tag = TrimmedString(
        validate=[validate.Length(max=TAG_MAX_LENGTH), query_slug],
        metadata={"description": "Only posts under this tag (its slug)."},
    )
    author = TrimmedString(
        validate=USERNAME, metadata={"description": "Only posts by this author (username)."}
    )

    @post_load
    def _lower_tag(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "tag" in data:
            data["tag"] = data["tag"].lower()
        return data


def feed_doc(
    name: str, media_type: str, schema: dict[str, Any]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The @endpoint of one feed format."""
    return endpoint(
        summary=f"The {name} feed",
        description=f"The latest FEED_LENGTH published posts as {name}, newest first, with "
        "their whole HTML bodies; `tag` and `author` narrow it. Entry ids are `tag:` URIs that "
        "never change. Last-Modified is the newest change; ETag and 304 as for cached reads.",
        tag="site",
        query=FeedQuerySchema,
        request_headers=CACHE_HEADERS,
        responses={
            200: Reply(schema, f"The {name} feed.", ("ETag",), media_type),
            304: NOT_MODIFIED,
            404: "No published post carries the tag, or no author has that username.",
        },
    )


def feed_response(body: bytes, media_type: str, source: FeedSource) -> Response:
    """A feed, Last-Modified when it last changed (a blog never written to has none)."""
    response = Response(body, mimetype=media_type)
    modified = last_modified(source.posts)
    if modified is not None:
        response.last_modified = modified
    return response


class AtomFeed(Resource):
    """/feed.atom."""

    @public_cache
    @feed_doc("Atom 1.0 (RFC 4287)", ATOM_TYPE, XML)
    def get(self, query: dict[str, Any]) -> Response:
        """The Atom feed."""
        source = feed_source(**query)
        return feed_response(atom_feed(source), ATOM_TYPE, source)


class RssFeed(Resource):
    """/feed.rss."""

    @public_cache
    @feed_doc("RSS 2.0", RSS_TYPE, XML)
    def get(self, query: dict[str, Any]) -> Response:
        """The RSS feed."""
        source = feed_source(**query)
        return feed_response(rss_feed(source), RSS_TYPE, source)


class JsonFeed(Resource):
    """/feed.json."""

    @public_cache
    @feed_doc("JSON Feed 1.1", JSON_FEED_TYPE, {"type": "object"})
    def get(self, query: dict[str, Any]) -> Response:
        """The JSON Feed."""
        source = feed_source(**query)
        return feed_response(json_feed(source), JSON_FEED_TYPE, source)


SITEMAP_REPLIES: dict[int, Reply | str] = {
    200: Reply(XML, "A sitemap (urlset) or a sitemap index.", ("ETag",), SITEMAP_TYPE),
    304: Reply(None, "Your copy is current.", ("ETag",)),
}


class Sitemap(Resource):
    """/sitemap.xml."""

    @public_cache
    @endpoint(
        summary="The sitemap",
        description="The front page, every tag page with a published post and every published "
        "post, with lastmod (sitemaps.org 0.9). Past 50,000 URLs, a sitemap index of "
        "/sitemap-{part}.xml files instead.",
        tag="site",
        request_headers=("If-None-Match",),
        responses=SITEMAP_REPLIES,
    )
    def get(self) -> Response:
        """The sitemap or its index."""
        return Response(sitemap(), mimetype=SITEMAP_TYPE)


class SitemapPart(Resource):
    """/sitemap-<part>.xml."""

    @public_cache
    @endpoint(
        summary="One part of the sitemap",
        description="The URLs of one part of a sitemap too long for one file, as the index at "
        "/sitemap.xml lists them.",
        tag="site",
        request_headers=("If-None-Match",),
        responses={**SITEMAP_REPLIES, 404: "No such part (or the sitemap fits in one file)."},
    )
    def get(self, part: int) -> Response:
        """One part of the sitemap."""
        body = sitemap_part(part)
        if body is None:
            raise ApiError(404, "The sitemap has no such part.")
        return Response(body, mimetype=SITEMAP_TYPE)


class Robots(Resource):
    """/robots.txt."""

    @endpoint(
        summary="Rules for crawlers",
        description="Crawl everything but the API (/api/); names the sitemap.",
        tag="site",
        uses_database=False,
        responses={200: Reply(TEXT, "robots.txt (RFC 9309).", (), "text/plain")},
    )
    def get(self) -> Response:
        """robots.txt."""
        response = Response(robots_txt(), mimetype="text/plain")
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response
