"""The post list: filters, sort orders and keyset paging that never repeats or skips a post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from blogapi.db.models import Post, Tag, User, post_tags, username_key
from blogapi.extensions import db
from blogapi.posts.access import status_filter
from blogapi.timeutil import request_now
from blogapi.web.cursors import Cursor, encode_cursor

# Counts a list's total once: (what the total depends on, how to count it) -> the total.
CountCache = Callable[[Any, Callable[[], int]], int]


@dataclass(frozen=True)
class SortOrder:
    """A `sort` value: the column, its direction and how its cursor key is typed."""

    name: str
    field: str
    descending: bool
    key_kind: str  # "time", "nullable_time" or "text"

    @property
    def column(self) -> Any:
        """The model column this order sorts by."""
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
    )
}
DEFAULT_SORT = "-published_at"


def list_filters(args: dict[str, Any], user: User | None, now: datetime) -> list[Any]:
    """The WHERE clauses of a list request, shared by its count and its page."""
    filters = [status_filter(args["status"], user, now)]
    if "author" in args:
        author_id = select(User.id).where(User.username_key == username_key(args["author"]))
        filters.append(Post.author_id == author_id.scalar_subquery())
    if "tag" in args:
        tagged = select(post_tags.c.post_id).join(Tag, Tag.id == post_tags.c.tag_id)
        filters.append(Post.id.in_(tagged.where(Tag.slug == args["tag"])))
    if "q" in args:
        q = args["q"]
        filters.append(or_(contains_text(Post.title, q), contains_text(Post.body, q)))
    return filters


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """Whether `column` contains `text`, ignoring case in every script, in the database's C code."""
    # SQLite's lower() and LIKE fold ASCII alone (a Python lower() would run over every body),
    # and PostgreSQL's lower() folds as its locale says (ASCII alone in the C locale). A class
    # of each letter's cases, [xX], in GLOB on SQLite and a regular expression on PostgreSQL,
    # matches the same on both, for every script. An ASCII query, the common case, takes
    # SQLite's LIKE instead: the same matches, about ten times faster than a GLOB of classes.
    match: ColumnElement[bool]
    if db.engine.dialect.name != "sqlite":
        match = column.op("~")(literal(case_blind(text, _regex_literal)))
    elif text.isascii():
        match = column.like(f"%{_like_literal(text)}%", escape="\\")
    else:
        match = column.op("GLOB")(literal(f"*{case_blind(text, _glob_literal)}*"))
    return match


def case_blind(text: str, literal: Callable[[str], str]) -> str:
    """A pattern matching `text`, each letter in any of its cases, other characters `literal`."""
    pattern = []
    for char in text:
        spellings = {char} | _same_lower().get(char.lower(), set())
        if char.isascii():
            # As LIKE folds them: the Kelvin sign is not a K here.
            spellings = {spelling for spelling in spellings if spelling.isascii()}
        pattern.append(
            "[" + "".join(sorted(spellings)) + "]" if len(spellings) > 1 else literal(char)
        )
    return "".join(pattern)


def _like_literal(text: str) -> str:
    """`text` as LIKE matches it literally, with a backslash as the escape character."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _glob_literal(char: str) -> str:
    """The character as GLOB matches it literally."""
    return f"[{char}]" if char in "*?[" else char


def _regex_literal(char: str) -> str:
    """The character as a PostgreSQL regular expression matches it literally."""
    # A backslash before any other ASCII character than a letter or digit makes it literal.
    return "\\" + char if char.isascii() and not char.isalnum() else char


@cache
def _same_lower() -> dict[str, set[str]]:
    """Each lowercase letter -> every character whose lower() is that letter, itself included."""
    spellings: dict[str, set[str]] = {}
    for point in range(0x1F000):  # past the last cased letter (Adlam, U+1E943)
        char = chr(point)
        lower = char.lower()
        if lower != char and len(lower) == 1:
            spellings.setdefault(lower, {lower}).add(char)
    return spellings


def may_hold_nulls(order: SortOrder, status: str) -> bool:
    """Whether the sort column can be NULL in these rows (drafts have no published_at)."""
    return order.key_kind == "nullable_time" and status in ("draft", "all")


def order_clauses(order: SortOrder, nulls: bool) -> list[Any]:
    """ORDER BY, ties broken by id; drafts (NULL) count as newer than any time, on every DB."""

    def direction(expr: Any) -> Any:
        return expr.desc() if order.descending else expr.asc()

    clauses = [direction(order.column), direction(Post.id)]
    return [direction(order.column.is_(None)), *clauses] if nulls else clauses


def after_cursor(order: SortOrder, cursor: Cursor, nulls: bool) -> ColumnElement[bool]:
    """Rows strictly after the cursor in `order`, matching order_clauses exactly."""
    column = order.column
    if cursor.key is None:
        later_draft = Post.id < cursor.id if order.descending else Post.id > cursor.id
        rest = [column.is_not(None)] if order.descending else []
        return or_(column.is_(None) & later_draft, *rest)
    row = tuple_(column, Post.id)
    mark = tuple_(literal(cursor.key, column.type), literal(cursor.id, Post.id.type))
    beyond = row < mark if order.descending else row > mark
    return or_(beyond, column.is_(None)) if nulls and not order.descending else beyond


def cursor_after(post: Post, order: SortOrder) -> str:
    """The cursor that continues after `post`."""
    return encode_cursor(Cursor(order.name, getattr(post, order.field), post.id))


def count_key(args: dict[str, Any], user: User | None) -> tuple[Any, ...]:
    """What a list's total depends on: its filters and, for unpublished posts, who asks."""
    who = (user.id, user.role) if user is not None else None
    return ("posts", args["status"], args.get("author"), args.get("tag"), args.get("q"), who)


def page_query(filters: list[Any]) -> Select[Post]:
    """Posts with their authors and tags loaded in a fixed number of queries."""
    options = (joinedload(Post.author), selectinload(Post.tags))
    return select(Post).options(*options).where(*filters)


def list_posts(
    args: dict[str, Any], user: User | None, counted: CountCache
) -> tuple[list[Post], int, str | None]:
    """One page of posts, the total matching (through `counted`), and the next page's cursor."""
    now = request_now()
    order = SORTS[args["sort"]]
    nulls = may_hold_nulls(order, args["status"])
    filters = list_filters(args, user, now)
    count = select(func.count()).select_from(Post).where(*filters)
    total = counted(count_key(args, user), lambda: db.session.scalar(count) or 0)
    per_page = args["per_page"]
    cursor: Cursor | None = args.get("cursor")
    # The cursor's bound goes first: given two upper bounds on published_at (the cursor's and
    # "published by now"), SQLite seeks with the first and walks the index from the other one
    # down to the cursor, which made deep pages cost as much as their depth.
    seek = [after_cursor(order, cursor, nulls)] if cursor is not None else []
    query = page_query([*seek, *filters]).order_by(*order_clauses(order, nulls))
    query = query.limit(per_page + 1)
    if cursor is None:
        query = query.offset((args["page"] - 1) * per_page)
    posts = list(db.session.scalars(query).unique())
    more = len(posts) > per_page
    posts = posts[:per_page]
    return posts, total, cursor_after(posts[-1], order) if more else None
