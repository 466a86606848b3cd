"""The reader pages: GET /, /posts/{slug}, /tags/{slug}, /authors/{username}, and the stylesheet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request, send_from_directory
from flask_restful import Resource
from marshmallow import EXCLUDE, Schema, fields
from werkzeug.wrappers import Response as WerkzeugResponse

from blogapi.site.content import author_named, published_post, tag_with_posts
from blogapi.site.links import author_url, home_url, post_url, tag_url
from blogapi.site.meta import list_meta, post_meta, shortened
from blogapi.site.page_content import list_page, moved_post
from blogapi.site.pages import (
    STATIC,
    asset_version,
    discovery_links,
    feed_links,
    render_page,
    site_enabled,
    with_discovery,
)
from blogapi.web.endpoint import Reply, View, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.public_cache import public_cache

HTML = "text/html"
A_YEAR = 365 * 24 * 3600


class PageQuery(Schema):
    """A list page's query: `page` is read by the page itself (anything but a page number that
    exists is a 404); any other parameter (utm_source, say) is ignored."""

    class Meta:
        unknown = EXCLUDE

    page = fields.String(
        metadata={
            "description": "Which page (1 when absent); past the last page: 404.",
            "pattern": "^[1-9][0-9]{0,5}$",
            "example": "2",
        }
    )


def page_doc(summary: str, description: str, missing: str) -> Callable[[View], View]:
    """The @endpoint of one list page."""
    return endpoint(
        summary=summary,
        description=description + " Server-rendered HTML with microformats2, OpenGraph and "
        "feed links; anonymous copies are cached (ETag, 304). 404 when PUBLIC_SITE is off.",
        tag="site",
        query=PageQuery,
        request_headers=("If-None-Match",),
        responses={
            200: Reply({"type": "string"}, "The page.", ("ETag",), media_type=HTML),
            304: Reply(None, "Your copy is current.", ("ETag",)),
            404: missing,
        },
    )


class HomePage(Resource):
    """GET /: the latest published posts."""

    @public_cache
    @page_doc(
        "The blog's front page",
        "The latest published posts, FEED_LENGTH a page, newest first.",
        "No such page, or the site serves no pages.",
    )
    def get(self, query: dict[str, Any]) -> Response:
        """One page of the latest posts."""
        site_enabled()
        context = list_page(home_url())
        title = current_app.config["SITE_TITLE"]
        description = current_app.config["SITE_DESCRIPTION"] or f"The latest posts on {title}."
        meta = list_meta(title=title, url=context["canonical"], description=description)
        page = render_page(
            "list.html",
            context["posts"],
            heading="Latest posts",
            meta=meta,
            discovery=discovery_links(),
            **context,
        )
        return with_discovery(page)


class TagPage(Resource):
    """GET /tags/{slug}: the published posts under a tag."""

    @public_cache
    @page_doc(
        "A tag's page",
        "The published posts under a tag, newest first.",
        "No published post has this tag, no such page, or the site serves no pages.",
    )
    def get(self, slug: str, query: dict[str, Any]) -> Response:
        """One page of a tag's posts."""
        site_enabled()
        tag = tag_with_posts(slug.lower())
        if tag is None:
            raise ApiError(404, "No published post has this tag.")
        context = list_page(tag_url(tag.slug), tag=tag.slug)
        title = f"Posts tagged “{tag.name}”"
        description = f"{title} on {current_app.config['SITE_TITLE']}."
        meta = list_meta(title=title, url=context["canonical"], description=description)
        return render_page(
            "list.html", context["posts"], heading=title, title_prefix=True, meta=meta, **context
        )


class AuthorPage(Resource):
    """GET /authors/{username}: an author's profile and published posts."""

    @public_cache
    @page_doc(
        "An author's page",
        "An author's profile (display name, bio) and published posts, newest first.",
        "No such author, no such page, or the site serves no pages.",
    )
    def get(self, username: str, query: dict[str, Any]) -> Response:
        """The profile and one page of the author's posts."""
        site_enabled()
        user = author_named(username)
        if user is None:
            raise ApiError(404, "There is no such author.")
        context = list_page(author_url(user.username), author=user.username)
        name = user.public_name
        description = shortened(user.bio) or f"Posts by {name}."
        meta = list_meta(title=name, url=context["canonical"], description=description)
        page = render_page(
            "author.html",
            context["posts"],
            user=user,
            name=name,
            meta=meta,
            discovery=discovery_links(),
            **context,
        )
        return with_discovery(page)


class PostPage(Resource):
    """GET /posts/{slug}: one published post."""

    @endpoint(
        summary="A post's page",
        description="A published post, server-rendered with microformats2 (h-entry), "
        "OpenGraph, Twitter card and JSON-LD BlogPosting; anonymous copies are cached (ETag, "
        "Last-Modified, 304). A slug the post had before it was renamed answers 301 to its "
        "current page, query kept. Drafts, scheduled and trashed posts are 404, as is every "
        "page when PUBLIC_SITE is off.",
        tag="site",
        request_headers=("If-None-Match",),
        responses={
            200: Reply({"type": "string"}, "The page.", ("ETag",), media_type=HTML),
            301: Reply(
                {"type": "string"},
                "The post's slug changed: its page is at Location.",
                ("Location",),
                media_type=HTML,
            ),
            304: Reply(None, "Your copy is current.", ("ETag",)),
            404: "No published post has this slug, or the site serves no pages.",
        },
    )
    @public_cache
    def get(self, slug: str) -> WerkzeugResponse:
        """The post's page, or a redirect from one of its old slugs."""
        site_enabled()
        post = published_post(slug)
        if post is None:
            return moved_post(slug)
        return render_page(
            "post.html",
            [post],
            post=post,
            meta=post_meta(post),
            canonical=post_url(post),
            feeds=feed_links(),
        )


class SiteAsset(Resource):
    """GET /assets/{filename}: the pages' stylesheet and icon."""

    def get(self, filename: str) -> Response:
        """A static file; kept a year when asked for at its current version (?v=)."""
        site_enabled()
        response = send_from_directory(STATIC, filename, max_age=0)
        current = request.args.get("v") == asset_version()
        response.headers["Cache-Control"] = (
            f"public, max-age={A_YEAR}, immutable" if current else "public, no-cache"
        )
        return response
