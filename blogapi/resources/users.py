"""UserList and UserItem: public profiles, and user management for admins."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_jwt_extended import current_user
from flask_restful import Resource
from marshmallow import fields, validate
from sqlalchemy import func, select

from blogapi.apidoc import Reply, document
from blogapi.audit import audit
from blogapi.auth import optional_user, role_required
from blogapi.errors import ApiError
from blogapi.extensions import db
from blogapi.http import json_body
from blogapi.models import User, username_key
from blogapi.pagination import PageQuerySchema, page_response
from blogapi.roles import ROLES, at_least
from blogapi.schemas.responses import UserPageSchema
from blogapi.schemas.users import (
    AdminUserUpdateSchema,
    PrivateUserSchema,
    PublicUserSchema,
    admin_user_update_schema,
    private_user_schema,
    public_user_schema,
)
from blogapi.services.accounts import active_admin_count


class UserListQuerySchema(PageQuerySchema):
    """GET /users filters."""

    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean()


user_list_query_schema = UserListQuerySchema()


def user_or_404(username: str, *, include_inactive: bool) -> User:
    """The user with this username (any case), else 404."""
    user = db.session.scalar(select(User).where(User.username_key == username_key(username)))
    if user is None or (not user.active and not include_inactive):
        raise ApiError(404, f"No user named {username!r}.")
    return user


class UserList(Resource):
    """Every account, for admins."""

    method_decorators = [role_required("admin")]

    @document(
        summary="List users",
        description="Every account, with email and active state. Admins only.",
        tag="users",
        auth="access",
        query=UserListQuerySchema,
        responses={
            200: Reply(UserPageSchema, "A page of users.", ("Link", "X-Total-Count")),
            403: "Only admins list users.",
        },
    )
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """A page of users with email and active state."""
        args = user_list_query_schema.load(request.args)
        query = select(User)
        if "role" in args:
            query = query.where(User.role == args["role"])
        if "active" in args:
            query = query.where(User.active == args["active"])
        total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        page, per_page = args["page"], args["per_page"]
        users = db.session.scalars(
            query.order_by(User.id).limit(per_page).offset((page - 1) * per_page)
        ).all()
        items = private_user_schema.dump(users, many=True)
        return page_response(items, page=page, per_page=per_page, total=total)


class UserItem(Resource):
    """One account: a public profile, or admin changes to role and active state."""

    @document(
        summary="A user's public profile",
        description="Anyone may read an active user's profile; admins also find deactivated ones.",
        tag="users",
        auth="optional",
        responses={
            200: Reply(PublicUserSchema, "The profile."),
            404: "No such (active) user.",
        },
    )
    def get(self, username: str) -> dict[str, Any]:
        """The public profile (admins also find deactivated users)."""
        caller = optional_user()
        is_admin = caller is not None and at_least(caller.role, "admin")
        return public_user_schema.dump(user_or_404(username, include_inactive=is_admin))

    @document(
        summary="Change a user's role or active state",
        description="Admins only. Deactivating revokes the user's tokens at once. The last "
        "active admin cannot be demoted or deactivated (409).",
        tag="users",
        auth="access",
        body=AdminUserUpdateSchema,
        example={"role": "editor"},
        responses={
            200: Reply(PrivateUserSchema, "The changed account."),
            403: "Only admins manage users.",
            404: "No such user.",
            409: "This would leave no active admin.",
        },
    )
    @role_required("admin")
    def patch(self, username: str) -> dict[str, Any]:
        """Change role or active state; deactivation revokes the user's tokens at once."""
        data = admin_user_update_schema.load(json_body())
        user = user_or_404(username, include_inactive=True)
        losing_admin = (
            user.role == "admin"
            and user.active
            and (data.get("role", "admin") != "admin" or data.get("active", True) is False)
        )
        if losing_admin and active_admin_count() <= 1:
            raise ApiError(409, "This is the last active admin; promote another admin first.")
        changes = {k: v for k, v in data.items() if getattr(user, k) != v}
        for field, value in changes.items():
            setattr(user, field, value)
        if changes.get("active") is False:
            user.revoke_all_tokens()
        db.session.commit()
        if changes:
            audit("user_changed", user=user, changes=changes, by=current_user.username)
        return private_user_schema.dump(user)
