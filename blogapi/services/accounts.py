"""Creating users and changing credentials: shared by the API and the CLI."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from blogapi.errors import ApiError
from blogapi.extensions import db
from blogapi.models import User, email_key, username_key
from blogapi.passwords import hasher


def find_user(name: str) -> User | None:
    """A user by username or email, compared without regard to case."""
    key = name.strip().casefold()
    column = User.email_key if "@" in key else User.username_key
    return db.session.scalar(select(User).where(column == key))


def taken_fields(username: str | None, email: str | None, exclude_id: int | None = None) -> dict:
    """Which of username/email another user already has, as field errors."""
    conditions = []
    if username is not None:
        conditions.append(User.username_key == username_key(username))
    if email is not None:
        conditions.append(User.email_key == email_key(email))
    if not conditions:
        return {}
    query = select(User.username_key, User.email_key).where(or_(*conditions))
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    errors: dict[str, list[str]] = {}
    for found_username, found_email in db.session.execute(query):
        if username is not None and found_username == username_key(username):
            errors["username"] = ["This username is already taken."]
        if email is not None and found_email == email_key(email):
            errors["email"] = ["This email is already registered."]
    return errors


def conflict(errors: dict[str, list[str]]) -> ApiError:
    """A 409 naming the fields that are taken."""
    return ApiError(409, "An account with these details already exists.", errors=errors)


def create_user(
    username: str, email: str, password: str, role: str, display_name: str | None = None
) -> User:
    """Add and commit a user; 409 when the username or email is taken, even in a race."""
    errors = taken_fields(username, email)
    if errors:
        raise conflict(errors)
    user = User(
        username=username,
        email=email,
        password_hash=hasher().hash(password),
        display_name=display_name or username,
        role=role,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise conflict(taken_fields(username, email) or {"username": ["Already taken."]}) from None
    return user


def set_password(user: User, password: str) -> None:
    """Store a new password and revoke every token issued before it (caller commits)."""
    user.password_hash = hasher().hash(password)
    user.revoke_all_tokens()


def active_admin_count() -> int:
    """How many active admins there are."""
    query = select(func.count()).select_from(User).where(User.role == "admin", User.active)
    return db.session.scalar(query) or 0
