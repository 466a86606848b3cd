"""UserList and UserItem: public profiles, and user management for admins."""

from __future__ import annotations

from typing import Any

from flask_restful import Resource
from marshmallow import fields, validate
from sqlalchemy import func, select

from blogapi.accounts.schemas import (
    AdminUserUpdateSchema,
    PrivateUserSchema,
    PublicUserSchema,
    UserPageSchema,
    private_user_schema,
    public_user_schema,
)
from blogapi.accounts.service import change_account
from blogapi.db.models import User, username_key
from blogapi.extensions import db
from blogapi.security.guards import OPTIONAL, caller, role, signed_in
from blogapi.security.roles import ROLES, at_least
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.paging import PageQuerySchema, page_response

ADMIN = role("admin")


class UserListQuerySchema(PageQuerySchema):
    """GET /users filters."""

    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()


def user_or_404(username: str, *, include_inactive: bool) -> User:
    """The user with this username (any case), else 404."""
    user = db.session.scalar(select(User).where(User.username_key == username_key(username)))
    if user is None or (not user.active and not include_inactive):
        raise ApiError(404, f"No user named {username!r}.")
    return user


class UserList(Resource):
    """Every account, for admins."""

    @endpoint(
        summary="List users",
        description="Every account, with email and active state. Admins only.",
        tag="users",
        auth=ADMIN,
        query=UserListQuerySchema,
        responses={
            200: Reply(UserPageSchema, "A page of users.", ("Link", "X-Total-Count")),
            403: "Only admins list users.",
        },
    )
    def get(self, query: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of users with email and active state."""
        users_query = select(User)
        if "role" in query:
            users_query = users_query.where(User.role == query["role"])
        if "active" in query:
            users_query = users_query.where(User.active == query["active"])
        counting = select(func.count()).select_from(users_query.subquery())
        total = db.session.scalar(counting) or 0
        page, per_page = query["page"], query["per_page"]
        users = db.session.scalars(
            users_query.order_by(User.id).limit(per_page).offset((page - 1) * per_page)
        ).all()
        items = private_user_schema.dump(users, many=True)
        return page_response(items, page=page, per_page=per_page, total=total)


class UserItem(Resource):
    """One account: a public profile, or admin changes to role and active state."""

    @endpoint(
        summary="A user's public profile",
        description="Anyone may read an active user's profile; admins also find deactivated ones.",
        tag="users",
        auth=OPTIONAL,
        responses={
            200: Reply(PublicUserSchema, "The profile."),
            404: "No such (active) user.",
        },
    )
    def get(self, username: str) -> dict[str, Any]:
        """The public profile (admins also find deactivated users)."""
        user = caller()
        is_admin = user is not None and at_least(user.role, "admin")
        profile: dict[str, Any] = public_user_schema.dump(
            user_or_404(username, include_inactive=is_admin)
        )
        return profile

    @endpoint(
        summary="Change a user's role or active state",
        description="Admins only. Deactivating revokes the user's tokens at once. The last "
        "active admin cannot be demoted or deactivated (409).",
        tag="users",
        auth=ADMIN,
        body=AdminUserUpdateSchema,
        example={"role": "editor"},
        responses={
            200: Reply(PrivateUserSchema, "The changed account."),
            403: "Only admins manage users.",
            404: "No such user.",
            409: "This would leave no active admin.",
        },
    )
    def patch(self, username: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change role or active state; deactivation revokes the user's tokens at once."""
        user = user_or_404(username, include_inactive=True)
        change_account(user, body, by=signed_in().username)
        account: dict[str, Any] = private_user_schema.dump(user)
        return account
