"""Revisions (list, read, diff, restore) and the trash (list, restore, purge) over HTTP."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_restful import Resource

from blogapi.db.models import Post, PostRevision, User
from blogapi.posts.access import can_see_history, is_editor
from blogapi.posts.history.diff import compare
from blogapi.posts.history.schemas import (
    DiffQuerySchema,
    DiffSchema,
    RevisionPageSchema,
    RevisionSchema,
    TrashPageSchema,
    diff_schema,
    revision_schema,
    revision_summary_schema,
    trashed_post_schema,
)
from blogapi.posts.history.trash import purge_post, restore_post, trash_page, trashed_post
from blogapi.posts.http import check_post_if_match, post_response
from blogapi.posts.markdown import render_markdown
from blogapi.posts.resources import (
    CHANGE_ERRORS,
    DELETE,
    POST,
    READ_OWN,
    UPDATE,
    changeable,
    may_delete,
    may_edit,
    require,
)
from blogapi.posts.revisions.storage import (
    body_of,
    content_of,
    find_revision,
    revision_page,
    tag_slugs,
)
from blogapi.posts.schemas import PostSchema
from blogapi.posts.service import update_post, visible_post
from blogapi.security.guards import signed_in
from blogapi.security.ratelimit import per_user, post_write_limit
from blogapi.security.roles import at_least
from blogapi.web.api import no_content
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.etags import if_match_sent
from blogapi.web.paging import PageQuerySchema, page_response

HIDDEN = "No such post, or its history is not visible to you."
NO_REVISION = "No such revision, post, or not visible to you."
PURGE_DENIED = "Only an editor, or the post's author with the author role or above, may purge it."
RESTORE_DENIED = "Only those who may edit the post may restore it."
TRASH_ERRORS = {
    404: "No such post in the trash, or not visible to you.",
    409: "Another request restored or purged it meanwhile (without If-Match).",
    412: "If-Match does not match the post's ETag.",
}


def history_of(ident: str) -> tuple[User, Post]:
    """The caller and a live post whose history they may see (its author, or an editor);
    404 for everyone else, as for drafts."""
    user = signed_in()
    post = visible_post(ident, user)
    if not can_see_history(user, post):
        raise ApiError(404, HIDDEN)
    return user, post


def may_purge(user: User, _post: Post) -> bool:
    """Purging rights, on a post the caller sees in the trash (their own, or as an editor)."""
    return is_editor(user) or at_least(user.role, "author")


def revision_at(post: Post, number: int) -> PostRevision:
    """Revision `number` of the post, or 404."""
    revision = find_revision(post.id, number)
    if revision is None:
        raise ApiError(404, f"The post has no revision {number}.")
    return revision


def summary(revision: PostRevision) -> dict[str, Any]:
    """A revision as a list shows it: everything but its body, tags as slugs."""
    names = ("number", "created_at", "author", "title", "slug", "summary")
    return {**{name: getattr(revision, name) for name in names}, "tags": tag_slugs(revision)}


class RevisionList(Resource):
    """A post's revisions, newest first."""

    @endpoint(
        summary="List a post's revisions",
        description="Newest first, bodies left out. Its author and editors only (404 for "
        "others, as for drafts).",
        tag="history",
        auth=READ_OWN,
        query=PageQuerySchema,
        responses={
            200: Reply(RevisionPageSchema, "A page of revisions.", ("Link", "X-Total-Count")),
            404: HIDDEN,
        },
    )
    def get(self, ident: str, query: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of the post's revisions."""
        _user, post = history_of(ident)
        page, per_page = query["page"], query["per_page"]
        revisions, total = revision_page(post.id, page, per_page)
        items = revision_summary_schema.dump(map(summary, revisions), many=True)
        return page_response(items, page=page, per_page=per_page, total=total)


class RevisionItem(Resource):
    """One revision, whole."""

    @endpoint(
        summary="Read a revision",
        description="With its body, and the body rendered as it would be published now.",
        tag="history",
        auth=READ_OWN,
        responses={200: Reply(RevisionSchema, "The revision."), 404: NO_REVISION},
    )
    def get(self, ident: str, number: int) -> dict[str, Any]:
        """The revision with its body."""
        _user, post = history_of(ident)
        revision = revision_at(post, number)
        body = body_of(revision)
        whole = {**summary(revision), "body": body, "body_html": render_markdown(body)}
        dumped: dict[str, Any] = revision_schema.dump(whole)
        return dumped


class RevisionDiff(Resource):
    """What changed between two revisions."""

    @endpoint(
        summary="Compare two revisions",
        description="The fields that differ and a unified diff of the body, from revision "
        "`against` (default: the one before) to revision {number}.",
        tag="history",
        auth=READ_OWN,
        query=DiffQuerySchema,
        responses={
            200: Reply(DiffSchema, "The differences."),
            404: NO_REVISION,
            422: "`against` is this revision, or one the post does not have.",
        },
    )
    def get(self, ident: str, number: int, query: dict[str, Any]) -> dict[str, Any]:
        """The diff of revision `number` from revision `against`."""
        _user, post = history_of(ident)
        dumped: dict[str, Any] = diff_schema.dump(
            compare(revision_at(post, number), query.get("against"))
        )
        return dumped


class RevisionRestore(Resource):
    """Make a revision's content the post's again."""

    @endpoint(
        summary="Restore a revision",
        description="The post takes revision {number}'s title, slug, summary, body and tags "
        "(its status stays), which makes a new revision. Those who may edit the post. Send "
        "If-Match so as not to overwrite someone else's change.",
        tag="history",
        auth=UPDATE,
        request_headers=("If-Match",),
        limits=per_user(post_write_limit, "post-write"),
        responses={200: POST, **CHANGE_ERRORS, 404: NO_REVISION},
    )
    def post(self, ident: str, number: int) -> Response:
        """Write the revision's content back as the post's."""
        user, post = history_of(ident)
        revision = revision_at(post, number)
        require(may_edit(user, post), RESTORE_DENIED)
        check_post_if_match(post)
        content = content_of(revision)
        return post_response(update_post(post, content, user, conditional=if_match_sent()))


class TrashList(Resource):
    """Deleted posts, waiting to be restored or purged."""

    @endpoint(
        summary="List the trash",
        description="Most recently deleted first. Contributors and authors see their own "
        "posts; editors and admins everyone's. Posts here are purged TRASH_DAYS after deletion.",
        tag="history",
        auth=READ_OWN,
        query=PageQuerySchema,
        responses={
            200: Reply(TrashPageSchema, "A page of deleted posts.", ("Link", "X-Total-Count"))
        },
    )
    def get(self, query: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of the trash the caller may see."""
        page, per_page = query["page"], query["per_page"]
        posts, total = trash_page(signed_in(), page, per_page)
        items = trashed_post_schema.dump(posts, many=True)
        return page_response(items, page=page, per_page=per_page, total=total)


class TrashItem(Resource):
    """A post in the trash, purged now."""

    @endpoint(
        summary="Purge a post from the trash",
        description="Deletes it for good, with its revisions. An editor, or the post's author "
        "with the author role or above.",
        tag="history",
        auth=DELETE,
        request_headers=("If-Match",),
        limits=per_user(post_write_limit, "post-write"),
        responses={
            204: Reply(None, "Purged."),
            403: PURGE_DENIED,
            **TRASH_ERRORS,
        },
    )
    def delete(self, ident: str) -> Response:
        """Delete the post for good."""
        post = changeable(ident, may_purge, PURGE_DENIED, find=trashed_post)
        purge_post(post, conditional=if_match_sent())
        return no_content()


class PostRestore(Resource):
    """A deleted post, back from the trash."""

    @endpoint(
        summary="Restore a post from the trash",
        description="Back exactly as it was, status included. Those who may edit it.",
        tag="history",
        auth=DELETE,
        request_headers=("If-Match",),
        limits=per_user(post_write_limit, "post-write"),
        responses={
            200: Reply(PostSchema, "The post, restored.", ("ETag",)),
            403: RESTORE_DENIED,
            **TRASH_ERRORS,
        },
    )
    def post(self, ident: str) -> Response:
        """Take the post out of the trash."""
        post = changeable(ident, may_delete, RESTORE_DENIED, find=trashed_post)
        return post_response(restore_post(post, conditional=if_match_sent()))
