"""PostList, PostItem, PostPublish, PostUnpublish and TagList: the blog itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, url_for
from flask_restful import Resource

from blogapi.db.models import Post, User
from blogapi.posts.access import can_delete, can_edit, can_publish
from blogapi.posts.http import check_post_if_match, post_response, read_cache_headers
from blogapi.posts.listing import list_posts
from blogapi.posts.schemas import (
    PostListQuerySchema,
    PostPageSchema,
    PostSchema,
    PostWriteSchema,
    PublishSchema,
    TagSchema,
    UnpublishSchema,
    post_schema,
    tag_schema,
)
from blogapi.posts.service import (
    create_post,
    publish_post,
    trash_post,
    unpublish_post,
    update_post,
    visible_post,
)
from blogapi.posts.tags import tag_counts
from blogapi.security.guards import ANY_SCOPE, OPTIONAL, caller, role, signed_in
from blogapi.security.personal_tokens import drafts_only
from blogapi.security.ratelimit import per_user, post_write_limit
from blogapi.timeutil import request_now
from blogapi.web.api import no_content
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.etags import if_match_sent, not_modified
from blogapi.web.paging import page_response
from blogapi.web.public_cache import cached_count, public_cache

EDIT_DENIED = "Only the post's author or an editor may change it; contributors only their drafts."
PUBLISH_DENIED = "Only the post's author (author role or above) or an editor may do this."
POST = Reply(PostSchema, "The post.", ("ETag",))
CHANGE_ERRORS = {
    403: "Visible, but not yours to change.",
    404: "No such post, or not visible to you.",
    409: "The slug is taken, or another write overtook this one (without If-Match).",
    412: "If-Match does not match the post's current ETag.",
}
CONTRIBUTOR = role("contributor")
READER = OPTIONAL.with_token(ANY_SCOPE)
READ_OWN = CONTRIBUTOR.with_token(ANY_SCOPE)
CREATE = CONTRIBUTOR.with_token("create")
UPDATE = CONTRIBUTOR.with_token("update")
DELETE = CONTRIBUTOR.with_token("delete")
DRAFTS_ONLY = "This token has the 'draft' scope: what it writes stays a draft."


def require(allowed: bool, detail: str) -> None:
    """403 with `detail` unless `allowed`."""
    if not allowed:
        raise ApiError(403, detail)


def changeable(
    ident: str,
    allowed: Callable[[User, Post], bool],
    detail: str,
    find: Callable[[str, User], Post] = visible_post,
) -> Post:
    """A post the caller may see (through `find`: live posts, unless told; else 404) and change
    as `allowed` says (else 403), whose ETag still matches If-Match when one is sent (else 412)."""
    user = signed_in()
    post = find(ident, user)
    require(allowed(user, post), detail)
    check_post_if_match(post)
    return post


def may_edit(user: User, post: Post) -> bool:
    """Editing rights as of this request."""
    return can_edit(user, post, request_now())


def may_delete(user: User, post: Post) -> bool:
    """Deleting rights as of this request."""
    return can_delete(user, post, request_now())


class PostList(Resource):
    """Posts: a page of what the caller may see, or a new draft."""

    @public_cache
    @endpoint(
        summary="List posts",
        description="Published posts for everyone; `status` adds drafts and scheduled posts the "
        "caller may see (their own; editors and admins: all). Page by `page` or, at any depth, "
        "by `cursor` (from `meta.next_cursor`).",
        tag="posts",
        auth=READER,
        query=PostListQuerySchema,
        responses={200: Reply(PostPageSchema, "A page of posts.", ("Link", "X-Total-Count"))},
    )
    def get(self, query: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of posts, filtered, sorted, by page number or by cursor."""
        found = list_posts(query, caller(), cached_count)
        items = post_schema.dump(found.posts, many=True)
        if found.found is not None:
            for item in items:
                match = found.found[item["id"]]
                item["match"] = {"rank": match.rank, "snippet": match.snippet}
        page, per_page = query["page"], query["per_page"]
        body, status, headers = page_response(
            items, page=page, per_page=per_page, total=found.total, next_cursor=found.next_cursor
        )
        if "cursor" in query:
            body["meta"]["page"] = None  # a keyset page has no page number
        return body, status, headers

    @endpoint(
        summary="Create a draft",
        description="Contributors and above. The slug comes from the title unless given; "
        "id, author, status and dates cannot be set.",
        tag="posts",
        auth=CREATE,
        body=PostWriteSchema,
        example={"title": "Hello, world", "body": "My *first* post.", "tags": ["news"]},
        limits=per_user(post_write_limit, "post-write"),
        responses={
            201: Reply(PostSchema, "The new draft.", ("Location", "ETag")),
            403: "Needs the contributor role or above.",
            409: "The slug is taken.",
        },
    )
    def post(self, body: dict[str, Any]) -> Response:
        """Create a draft owned by the caller."""
        post = create_post(body, signed_in())
        return post_response(post, 201, {"Location": url_for("post_item", ident=post.id)})


class PostItem(Resource):
    """One post, by id or slug."""

    @public_cache
    @endpoint(
        summary="Read a post",
        description="By id or slug. Drafts and scheduled posts are visible only to their author "
        "and to editors and admins (404 for everyone else).",
        tag="posts",
        auth=READER,
        request_headers=("If-None-Match",),
        responses={
            200: POST,
            304: Reply(None, "Your copy is current.", ("ETag",)),
            404: "No such post, or not visible to you.",
        },
    )
    def get(self, ident: str) -> Response:
        """The post with its ETag; 304 when the client's copy is current."""
        user = caller()
        post = visible_post(ident, user)
        headers = read_cache_headers(post, user)
        response = post_response(post, headers=headers)
        return not_modified(response.headers["ETag"], headers) or response

    @endpoint(
        summary="Edit a post",
        description="Partial update of title, body, summary, tags or slug. The owner "
        "(contributors: drafts only) or an editor. Send If-Match so as not to overwrite "
        "someone else's change.",
        tag="posts",
        auth=UPDATE,
        body=PostWriteSchema(partial=True),
        request_headers=("If-Match",),
        example={"title": "A better title"},
        limits=per_user(post_write_limit, "post-write"),
        responses={200: POST, **CHANGE_ERRORS},
    )
    def patch(self, ident: str, body: dict[str, Any]) -> Response:
        """Change title, body, summary, tags or slug."""
        post = changeable(ident, may_edit, EDIT_DENIED)
        return post_response(update_post(post, body, signed_in(), conditional=if_match_sent()))

    @endpoint(
        summary="Delete a post (to the trash)",
        description="The owner (author role or above; contributors their drafts) or an editor. "
        "The post leaves every list, search and cache at once, its slug stays reserved, and it "
        "can be restored (POST /posts/{ident}/restore) until purged, TRASH_DAYS later.",
        tag="posts",
        auth=DELETE,
        request_headers=("If-Match",),
        responses={204: Reply(None, "Moved to the trash."), **CHANGE_ERRORS},
    )
    def delete(self, ident: str) -> Response:
        """Move the post to the trash."""
        post = changeable(ident, may_delete, EDIT_DENIED)
        trash_post(post, signed_in(), conditional=if_match_sent())
        return no_content()


class PostPublish(Resource):
    """Publish now, schedule for later, or backdate."""

    @endpoint(
        summary="Publish or schedule a post",
        description="Now, or at `publish_at` (a future time schedules it; a past one backdates). "
        "Idempotent. The owner with the author role or above, or an editor.",
        tag="posts",
        auth=UPDATE,
        body=PublishSchema,
        body_optional=True,
        request_headers=("If-Match",),
        example={"publish_at": "2026-12-01T09:00:00Z"},
        responses={200: POST, **CHANGE_ERRORS},
    )
    def post(self, ident: str, body: dict[str, Any]) -> Response:
        """Set published_at; publishing a published post again changes nothing."""
        require(not drafts_only(), DRAFTS_ONLY)
        post = changeable(ident, can_publish, PUBLISH_DENIED)
        published = publish_post(post, body.get("publish_at"), conditional=if_match_sent())
        return post_response(published)


class PostUnpublish(Resource):
    """Back to draft."""

    @endpoint(
        summary="Unpublish a post",
        description="Back to draft. The owner with the author role or above, or an editor.",
        tag="posts",
        auth=UPDATE,
        body=UnpublishSchema,
        body_optional=True,
        request_headers=("If-Match",),
        responses={200: POST, **CHANGE_ERRORS},
    )
    def post(self, ident: str, body: dict[str, Any]) -> Response:
        """Clear published_at."""
        post = changeable(ident, can_publish, PUBLISH_DENIED)
        return post_response(unpublish_post(post, conditional=if_match_sent()))


class TagList(Resource):
    """Tags in use on published posts."""

    @public_cache
    @endpoint(
        summary="List tags",
        description="Every tag on at least one published post, with how many, busiest first, "
        "named as the first of those posts to be published spells it.",
        tag="posts",
        responses={200: Reply(TagSchema(many=True), "The tags.")},
    )
    def get(self) -> list[dict[str, Any]]:
        """Every tag with at least one published post, busiest first."""
        tags: list[dict[str, Any]] = tag_schema.dump(tag_counts(request_now()), many=True)
        return tags
