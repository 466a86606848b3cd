"""Accounts' rules, shared by the API and the CLI: users, profiles, passwords, roles.

Services own the commit (here and in every feature's service modules): a function that changes
data commits before it returns, or rolls back and raises, so a write happens whole or not at
all; resources and commands never commit, and never repeat a rule. (A function documented as
"caller commits" only stages a change inside a caller's larger transaction.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from blogapi.accounts.email_tokens import void_tokens
from blogapi.accounts.mailing import RESET, notice, require_mail, send_verification
from blogapi.accounts.schemas import check_password
from blogapi.db.models import User, email_key, username_key
from blogapi.db.sqlite import take_sqlite_write_lock
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.security.passwords import hasher
from blogapi.web.errors import ApiError


def find_user(name: str) -> User | None:
    """A user by username or email, compared without regard to case."""
    key = name.strip().casefold()
    column = User.email_key if "@" in key else User.username_key
    return db.session.scalar(select(User).where(column == key))


def taken_fields(
    username: str | None, email: str | None, exclude_id: int | None = None
) -> dict[str, list[str]]:
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
    username: str,
    email: str,
    password: str,
    role: str,
    display_name: str | None = None,
    *,
    verified: bool = False,
) -> User:
    """Add and commit a user (unless `verified`, with a verification message to its address);
    409 when the username or email is taken, even in a race."""
    errors = taken_fields(username, email)
    if errors:
        raise conflict(errors)
    user = User(
        username=username,
        email=email,
        password_hash=hasher().hash(password),
        display_name=display_name or username,
        role=role,
        email_verified=verified,
    )
    db.session.add(user)
    try:
        if not verified:
            db.session.flush()  # its id, for the token
            send_verification(user, email)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise conflict(taken_fields(username, email) or {"username": ["Already taken."]}) from None
    return user


def set_password(user: User, password: str) -> None:
    """Store a new password, revoke every token issued before it and void the reset links
    mailed before it (caller commits): every password change goes through here."""
    user.password_hash = hasher().hash(password)
    user.revoke_all_tokens()
    void_tokens(user, RESET)


def other_admins_locked(user: User) -> int:
    """How many active admins besides `user` there are, their rows and the user's held until
    commit (and the user refreshed), so two changes cannot each count on the other admin."""
    conn = db.session.connection()
    take_sqlite_write_lock(conn)
    # PostgreSQL: FOR UPDATE in id order (no deadlock); a row another change committed
    # meanwhile is read again, and drops out if it is no longer an active admin.
    query = (
        select(User)
        .where(or_(and_(User.role == "admin", User.active), User.id == user.id))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    locked = db.session.scalars(query).all()
    return sum(
        1 for other in locked if other.id != user.id and other.role == "admin" and other.active
    )


def loses_admin(user: User, changes: dict[str, Any]) -> bool:
    """Whether these changes take an active admin's role or active state away."""
    return (
        user.role == "admin"
        and user.active
        and (changes.get("role", "admin") != "admin" or changes.get("active", True) is False)
    )


def change_account(user: User, wanted: dict[str, Any], *, by: str | None = None) -> dict[str, Any]:
    """Change role and/or active state and commit; what changed (409 for the last active admin).

    The last active admin can be neither demoted nor deactivated, and deactivating revokes
    every token the user holds at once.
    """
    others = other_admins_locked(user)
    changes = {field: value for field, value in wanted.items() if getattr(user, field) != value}
    if loses_admin(user, changes) and others == 0:
        last = f"{user.username} is the last active admin; make another admin first."
        refusal = ApiError(409, last)
        db.session.rollback()  # let go of the locks now, not at the end of the request
        raise refusal
    previous = {field: getattr(user, field) for field in changes}
    for field, value in changes.items():
        setattr(user, field, value)
    if changes.get("active") is False:
        user.revoke_all_tokens()
    db.session.commit()
    if changes:
        extra = {"by": by} if by else {}
        audit("user_changed", user=user, changes=changes, previous=previous, **extra)
    return changes


def update_profile(user: User, changes: dict[str, Any]) -> None:
    """Change the caller's display name or bio, ask for a new email, and commit; 409 when the
    email is another account's."""
    changes = dict(changes)
    if "email" in changes:
        ask_email_change(user, changes.pop("email"))
    for field, value in changes.items():
        setattr(user, field, value)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise conflict({"email": ["This email is already registered."]}) from None


def ask_email_change(user: User, address: str) -> None:
    """Keep `address` as the user's pending email, mail it a verification link and tell the
    current address (caller commits): the address moves only when the link is followed. The
    user's own address (in any case) cancels a pending change instead; 503 without mail."""
    if email_key(address) == user.email_key:
        user.email = address  # the same mailbox, perhaps spelled in another case
        user.pending_email = None
        return
    require_mail()
    errors = taken_fields(None, address, exclude_id=user.id)
    if errors:
        raise conflict(errors)
    user.pending_email = address
    send_verification(user, address)
    notice(user, "email_change_asked", new_address=address)


def change_password(user: User, current: str, new: str) -> None:
    """Check the current password (401), the new one against the policy (422), store it and
    revoke every older token, and commit."""
    valid, _ = hasher().verify(current, user.password_hash)
    if not valid:
        audit("password_change_failed", user=user)
        raise ApiError(401, "The current password is wrong.")
    check_password(new, user.username, user.email, "new_password")
    set_password(user, new)
    notice(user, "password_changed")
    db.session.commit()
    audit("password_changed", user=user)


def reset_password(user: User, password: str) -> None:
    """An admin sets a user's password (already checked against the policy): every token the
    user holds is revoked; commit."""
    set_password(user, password)
    notice(user, "password_changed")
    db.session.commit()
    audit("password_reset", user=user)
