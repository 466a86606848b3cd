"""The post list: filters, sort orders and keyset paging that never repeats or skips a post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, tuple_

from blogapi.db.models import Post, Tag, User, post_tags, username_key
from blogapi.extensions import db
from blogapi.posts.access import SHOWN_WITH_POST, live, status_filter
from blogapi.posts.search.base import Search
from blogapi.posts.search.engines import search_for
from blogapi.timeutil import request_now
from blogapi.web.cursors import Cursor, encode_cursor

RELEVANCE = "relevance"  # the order of search results (only with q), best match first
# Counts a list's total once: (what the total depends on, how to count it) -> the total.
CountCache = Callable[[Any, Callable[[], int]], int]


@dataclass(frozen=True)
class SortOrder:
    """A `sort` value: the column, its direction and how its cursor key is typed."""

    name: str
    field: str
    descending: bool
    key_kind: str  # "time", "nullable_time", "text" or "number"

    @property
    def column(self) -> Any:
        """The model column this order sorts by (relevance: the search's rank instead)."""
        return getattr(Post, self.field)


SORTS = {
    order.name: order
    for order in (
        SortOrder("-published_at", "published_at", True, "nullable_time"),
        SortOrder("published_at", "published_at", False, "nullable_time"),
        SortOrder("-created_at", "created_at", True, "time"),
        SortOrder("created_at", "created_at", False, "time"),
        SortOrder("title", "title", False, "text"),
        SortOrder("-title", "title", True, "text"),
        SortOrder(RELEVANCE, "rank", True, "number"),
    )
}
DEFAULT_SORT = "-published_at"


def list_filters(args: dict[str, Any], user: User | None, now: datetime) -> list[Any]:
    """The WHERE clauses of a list request, shared by its count and its page."""
    filters = [live(), status_filter(args["status"], user, now)]
    if "author" in args:
        author_id = select(User.id).where(User.username_key == username_key(args["author"]))
        filters.append(Post.author_id == author_id.scalar_subquery())
    if "tag" in args:
        tagged = select(post_tags.c.post_id).join(Tag, Tag.id == post_tags.c.tag_id)
        filters.append(Post.id.in_(tagged.where(Tag.slug == args["tag"])))
    return filters


def may_hold_nulls(order: SortOrder, status: str, cursor: Cursor | None) -> bool:
    """Whether the sort column can be NULL in these rows (drafts have no published_at). Newest
    first, drafts come first: past a published post's cursor there are none left, and the page
    is read in plain published order."""
    if order.key_kind != "nullable_time" or status not in ("draft", "all"):
        return False
    return not (order.descending and cursor is not None and cursor.key is not None)


def order_clauses(order: SortOrder, column: Any, nulls: bool) -> list[Any]:
    """ORDER BY `column` (the order's), ties broken by id; drafts (NULL) count as newer than
    any time, on every DB."""

    def direction(expr: Any) -> Any:
        return expr.desc() if order.descending else expr.asc()

    clauses = [direction(column), direction(Post.id)]
    return [direction(column.is_(None)), *clauses] if nulls else clauses


def after_cursor(order: SortOrder, column: Any, cursor: Cursor, nulls: bool) -> ColumnElement[bool]:
    """Rows strictly after the cursor in `order` (sorting by `column`), matching order_clauses
    exactly."""
    if cursor.key is None:
        later_draft = Post.id < cursor.id if order.descending else Post.id > cursor.id
        rest = [column.is_not(None)] if order.descending else []
        return or_(column.is_(None) & later_draft, *rest)
    row = tuple_(column, Post.id)
    mark = tuple_(literal(cursor.key, column.type), literal(cursor.id, Post.id.type))
    beyond = row < mark if order.descending else row > mark
    return or_(beyond, column.is_(None)) if nulls and not order.descending else beyond


def count_key(args: dict[str, Any], user: User | None) -> tuple[Any, ...]:
    """What a list's total depends on: its filters and, for unpublished posts, who asks."""
    who = (user.id, user.role) if user is not None else None
    return ("posts", args["status"], args.get("author"), args.get("tag"), args.get("q"), who)


def page_query(filters: list[Any]) -> Select[Any]:
    """Posts with their authors and tags loaded in a fixed number of queries."""
    return select(Post).options(*SHOWN_WITH_POST).where(*filters)


@dataclass(frozen=True)
class Found:
    """How a post on a search's page matched: its rank, and its text around the match (HTML)."""

    rank: float
    snippet: str


@dataclass
class PostPage:
    """One page of a list: its posts, the total matching, the next page's cursor and, for a
    search, how each post matched."""

    posts: list[Post]
    total: int
    next_cursor: str | None
    found: dict[int, Found] | None = None


def list_posts(args: dict[str, Any], user: User | None, counted: CountCache) -> PostPage:
    """One page of posts (a search's, with `q`), the total matching (through `counted`)."""
    search: Search | None = None
    if "q" in args:
        search = search_for(args["q"])
        if search is None:  # nothing searchable: no post matches
            return PostPage([], 0, None, {})
    narrow = search.narrow if search is not None else (lambda statement: statement)
    order = SORTS[args["sort"]]
    column = search.rank if search is not None and order.name == RELEVANCE else order.column
    cursor: Cursor | None = args.get("cursor")
    nulls = may_hold_nulls(order, args["status"], cursor)
    filters = list_filters(args, user, request_now())
    count = narrow(select(func.count()).select_from(Post).where(*filters))
    total = counted(count_key(args, user), lambda: db.session.scalar(count) or 0)
    per_page = args["per_page"]
    # The cursor's bound goes first: given two upper bounds on published_at (the cursor's and
    # "published by now"), SQLite seeks with the first and walks the index from the other one
    # down to the cursor, which made deep pages cost as much as their depth.
    seek = [after_cursor(order, column, cursor, nulls)] if cursor is not None else []
    ranked = [search.rank] if search is not None else []  # the last column of each row
    query = narrow(page_query([*seek, *filters]).add_columns(column, *ranked))
    query = query.order_by(*order_clauses(order, column, nulls)).limit(per_page + 1)
    if cursor is None:
        query = query.offset((args["page"] - 1) * per_page)
    rows = db.session.execute(query).unique().all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    posts = [row[0] for row in rows]
    next_cursor = encode_cursor(Cursor(order.name, rows[-1][1], posts[-1].id)) if more else None
    found: dict[int, Found] | None = None
    if search is not None:
        snippets = search.snippets(posts) if posts else {}
        found = {row[0].id: Found(row[-1], snippets[row[0].id]) for row in rows}
    return PostPage(posts, total, next_cursor, found)
