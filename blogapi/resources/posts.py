"""PostList, PostItem, PostPublish, PostUnpublish and TagList: the blog itself."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for
from flask_jwt_extended import current_user
from flask_restful import Resource

from blogapi.apidoc import Reply, document
from blogapi.auth import optional_user, role_required
from blogapi.http import json_body
from blogapi.models import Post, User
from blogapi.pagination import page_response
from blogapi.schemas.posts import (
    PostListQuerySchema,
    PostSchema,
    PostWriteSchema,
    PublishSchema,
    TagSchema,
    UnpublishSchema,
    post_create_schema,
    post_list_query_schema,
    post_schema,
    post_update_schema,
    publish_schema,
    tag_schema,
    unpublish_schema,
)
from blogapi.schemas.responses import PostPageSchema
from blogapi.services.access import can_delete, can_edit, can_publish, request_now, require
from blogapi.services.etags import check_if_match, not_modified, post_response, read_cache_headers
from blogapi.services.listing import list_posts
from blogapi.services.posts import (
    create_post,
    delete_post,
    load_post,
    save,
    set_published_at,
    update_post,
    visible_post,
)
from blogapi.services.public_cache import public_cache
from blogapi.services.tags import tag_counts

EDIT_DENIED = "Only the post's author or an editor may change it; contributors only their drafts."
PUBLISH_DENIED = "Only the post's author (author role or above) or an editor may do this."
POST = Reply(PostSchema, "The post.", ("ETag",))
CHANGE_ERRORS = {
    403: "Visible, but not yours to change.",
    404: "No such post, or not visible to you.",
    409: "The slug is taken, or another write overtook this one (without If-Match).",
    412: "If-Match does not match the post's current ETag.",
}


def saved(post: Post, changed: bool) -> Post:
    """Commit when something changed and reload the post as it now is."""
    if not changed:
        return post
    post_id = post.id
    save(post)
    return load_post(str(post_id))


def publishable(ident: str, schema: Any) -> tuple[Post, dict[str, Any]]:
    """A post the caller may publish or unpublish and the request's fields, checked in order:
    404, 403, then the body (415/400/422), then If-Match (412)."""
    user: User = current_user
    post = visible_post(ident, user)
    require(can_publish(user, post), PUBLISH_DENIED)
    data = schema.load(json_body(optional=True))
    check_if_match(post)
    return post, data


class PostList(Resource):
    """Posts: a page of what the caller may see, or a new draft."""

    @document(
        summary="List posts",
        description="Published posts for everyone; `status` adds drafts and scheduled posts the "
        "caller may see (their own; editors and admins: all). Page by `page` or, at any depth, "
        "by `cursor` (from `meta.next_cursor`).",
        tag="posts",
        auth="optional",
        query=PostListQuerySchema,
        responses={200: Reply(PostPageSchema, "A page of posts.", ("Link", "X-Total-Count"))},
    )
    @public_cache
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of posts, filtered, sorted, by page number or by cursor."""
        user = optional_user()
        args = post_list_query_schema.load(request.args)
        posts, total, next_cursor = list_posts(args, user)
        items = post_schema.dump(posts, many=True)
        page, per_page = args["page"], args["per_page"]
        body, status, headers = page_response(
            items, page=page, per_page=per_page, total=total, next_cursor=next_cursor
        )
        if "cursor" in args:
            body["meta"]["page"] = None  # a keyset page has no page number
        return body, status, headers

    @document(
        summary="Create a draft",
        description="Contributors and above. The slug comes from the title unless given; "
        "id, author, status and dates cannot be set.",
        tag="posts",
        auth="access",
        body=PostWriteSchema,
        example={"title": "Hello, world", "body": "My *first* post.", "tags": ["news"]},
        responses={
            201: Reply(PostSchema, "The new draft.", ("Location", "ETag")),
            403: "Needs the contributor role or above.",
            409: "The slug is taken.",
        },
    )
    @role_required("contributor")
    def post(self) -> Response:
        """Create a draft owned by the caller."""
        data = post_create_schema.load(json_body())
        post_id = create_post(data, current_user)
        location = url_for("post_item", ident=post_id)
        return post_response(load_post(str(post_id)), 201, {"Location": location})


class PostItem(Resource):
    """One post, by id or slug."""

    @document(
        summary="Read a post",
        description="By id or slug. Drafts and scheduled posts are visible only to their author "
        "and to editors and admins (404 for everyone else).",
        tag="posts",
        auth="optional",
        request_headers=("If-None-Match",),
        responses={
            200: POST,
            304: Reply(None, "Your copy is current.", ("ETag",)),
            404: "No such post, or not visible to you.",
        },
    )
    @public_cache
    def get(self, ident: str) -> Response:
        """The post with its ETag; 304 when the client's copy is current."""
        user = optional_user()
        post = visible_post(ident, user)
        headers = read_cache_headers(post, user)
        response = post_response(post, headers=headers)
        return not_modified(response.headers["ETag"], headers) or response

    @document(
        summary="Edit a post",
        description="Partial update of title, body, summary, tags or slug. The owner "
        "(contributors: drafts only) or an editor. Send If-Match so as not to overwrite "
        "someone else's change.",
        tag="posts",
        auth="access",
        body=PostWriteSchema(partial=True),
        request_headers=("If-Match",),
        example={"title": "A better title"},
        responses={200: POST, **CHANGE_ERRORS},
    )
    @role_required("contributor")
    def patch(self, ident: str) -> Response:
        """Change title, body, summary, tags or slug."""
        user: User = current_user
        post = visible_post(ident, user)
        require(can_edit(user, post, request_now()), EDIT_DENIED)
        data = post_update_schema.load(json_body())  # a malformed request says so before a 412
        check_if_match(post)
        return post_response(saved(post, update_post(post, data)))

    @document(
        summary="Delete a post",
        description="The owner (author role or above; contributors their drafts) or an editor.",
        tag="posts",
        auth="access",
        request_headers=("If-Match",),
        responses={204: Reply(None, "Deleted."), **CHANGE_ERRORS},
    )
    @role_required("contributor")
    def delete(self, ident: str) -> tuple[str, int]:
        """Delete the post."""
        user: User = current_user
        post = visible_post(ident, user)
        require(can_delete(user, post, request_now()), EDIT_DENIED)
        check_if_match(post)
        delete_post(post)
        return "", 204


class PostPublish(Resource):
    """Publish now, schedule for later, or backdate."""

    method_decorators = [role_required("contributor")]

    @document(
        summary="Publish or schedule a post",
        description="Now, or at `publish_at` (a future time schedules it; a past one backdates). "
        "Idempotent. The owner with the author role or above, or an editor.",
        tag="posts",
        auth="access",
        body=PublishSchema,
        body_optional=True,
        request_headers=("If-Match",),
        example={"publish_at": "2026-12-01T09:00:00Z"},
        responses={200: POST, **CHANGE_ERRORS},
    )
    def post(self, ident: str) -> Response:
        """Set published_at; publishing a published post again changes nothing."""
        post, data = publishable(ident, publish_schema)
        now = request_now()
        keep = post.published_at if post.status_at(now) == "published" else now
        when = data.get("publish_at", keep)
        return post_response(saved(post, set_published_at(post, when)))


class PostUnpublish(Resource):
    """Back to draft."""

    method_decorators = [role_required("contributor")]

    @document(
        summary="Unpublish a post",
        description="Back to draft. The owner with the author role or above, or an editor.",
        tag="posts",
        auth="access",
        body=UnpublishSchema,
        body_optional=True,
        request_headers=("If-Match",),
        responses={200: POST, **CHANGE_ERRORS},
    )
    def post(self, ident: str) -> Response:
        """Clear published_at."""
        post, _ = publishable(ident, unpublish_schema)
        return post_response(saved(post, set_published_at(post, None)))


class TagList(Resource):
    """Tags in use on published posts."""

    @document(
        summary="List tags",
        description="Every tag on at least one published post, with how many, busiest first.",
        tag="posts",
        responses={200: Reply(TagSchema(many=True), "The tags.")},
    )
    @public_cache
    def get(self) -> list[dict[str, Any]]:
        """Every tag with at least one published post, busiest first."""
        return tag_schema.dump(tag_counts(request_now()), many=True)
