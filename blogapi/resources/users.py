"""UserList and UserItem: public profiles, and user management for admins."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_jwt_extended import current_user
from flask_restful import Resource
from marshmallow import fields, validate
from sqlalchemy import func, select

from blogapi.audit import audit
from blogapi.auth import optional_user, role_required
from blogapi.errors import ApiError
from blogapi.extensions import db
from blogapi.http import json_body
from blogapi.models import User, username_key
from blogapi.pagination import PageQuerySchema, page_response
from blogapi.roles import ROLES, at_least
from blogapi.schemas.users import admin_user_update_schema, private_user_schema, public_user_schema


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


def active_admin_count() -> int:
    """How many active admins there are."""
    query = select(func.count()).select_from(User).where(User.role == "admin", User.active)
    return db.session.scalar(query) or 0


class UserList(Resource):
    """Every account, for admins."""

    method_decorators = [role_required("admin")]

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

    def get(self, username: str) -> dict[str, Any]:
        """The public profile; admins also get email and active state."""
        caller = optional_user()
        is_admin = caller is not None and at_least(caller.role, "admin")
        user = user_or_404(username, include_inactive=is_admin)
        schema = private_user_schema if is_admin else public_user_schema
        return schema.dump(user)

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
