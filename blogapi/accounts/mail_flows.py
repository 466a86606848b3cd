"""Account flows by email: forgotten passwords, reset links, address verification.

A forgot request does the same work whatever the address: it stages one `password_reset`
message to the typed address and commits. The worker, sending it, asks prepare_reset (a
preparer registered with the mail package) for its content: that looks the account up, mints
the token, or returns None (no message) for an unknown address or an account sent one moments
ago. So the answer, its timing and the database writes of the request tell nobody whether
the address has an account.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from blogapi.accounts.email_tokens import bad_token, live_token, mint, minted_since, spend
from blogapi.accounts.email_tokens import void_tokens as void
from blogapi.accounts.mailing import RESET, VERIFY, account_link, notice, person, send_verification
from blogapi.accounts.schemas import check_password
from blogapi.accounts.service import conflict, set_password, taken_fields
from blogapi.db.models import User, email_key
from blogapi.extensions import db
from blogapi.mail.kinds import register_preparer
from blogapi.mail.outbox import queue_mail
from blogapi.security.audit import audit
from blogapi.timeutil import utcnow

# One reset message per account this often at most, however many requests name it.
RESET_QUIET = timedelta(minutes=5)
TAKEN = {"email": ["This email is already registered."]}


def ask_password_reset(address: str) -> None:
    """Stage a reset message to `address` and commit (the worker decides whether it is sent)."""
    queue_mail(RESET, address)
    db.session.commit()


def prepare_reset(mail: Any) -> dict[str, Any] | None:
    """The reset message's content, with a new token, for the active account the address
    belongs to; None (send nothing) when none does or one was sent a few minutes ago."""
    user = db.session.scalar(select(User).where(User.email_key == email_key(mail.to_address)))
    if user is None or not user.active:
        return None
    if minted_since(user.id, RESET, utcnow() - RESET_QUIET):
        return None
    lifetime: timedelta = current_app.config["PASSWORD_RESET_EXPIRES"]
    token = mint(user, RESET, user.email, lifetime)
    # To the address the account holds: the typed one only matched it, case folded.
    mail.to_address = user.email
    minutes = int(lifetime.total_seconds() // 60)
    link = account_link("/reset-password", token)
    return {**person(user), "token": token, "link": link, "minutes": minutes}


def reset_token_user(token: object) -> User:
    """The user a live reset token is for (the one 400 otherwise); nothing is spent."""
    return live_token(token, RESET).user


def verify_token_address(token: object) -> str:
    """The address a live verification token was mailed to (the one 400 otherwise)."""
    return live_token(token, VERIFY).email


def reset_with_token(token: object, password: str, field: str = "new_password") -> User:
    """Spend a reset token: set the password (the policy's 422 first, the token kept then),
    revoke every token of the user, tell them, and commit. The link proves the address."""
    found = live_token(token, RESET)
    user = found.user
    check_password(password, user.username, user.email, field)
    spend(found)
    if email_key(found.email) == user.email_key:
        user.email_verified = True
    set_password(user, password)
    notice(user, "password_was_reset")
    db.session.commit()
    audit("password_reset_by_email", user=user)
    return user


def verify_address(token: object) -> User:
    """Spend a verification token and commit: the address it was mailed to is proven, and
    becomes the account's when it was the pending one (409 if another account took it
    meanwhile); other accounts' pending claims on it are dropped."""
    found = live_token(token, VERIFY)
    user, key = found.user, email_key(found.email)
    if user.pending_email is not None and user.pending_email_key == key:
        if taken_fields(None, user.pending_email, exclude_id=user.id):
            raise conflict(TAKEN)
        user.email, user.pending_email = user.pending_email, None
        void(user, RESET)  # links mailed to the old address no longer open the account
    elif user.email_key != key:
        raise bad_token()  # mailed to an address the account has since given up
    spend(found)
    user.email_verified = True
    void(user, VERIFY)
    db.session.execute(
        update(User)
        .where(User.pending_email_key == key, User.id != user.id)
        .values(pending_email=None, pending_email_key=None)
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise conflict(TAKEN) from None
    audit("email_verified", user=user)
    return user


def resend_verification(user: User) -> str | None:
    """Mail a new verification link to the pending address, else to an unverified one, and
    commit; the address, or None when there is nothing to verify."""
    address = user.pending_email or (None if user.email_verified else user.email)
    if address is None:
        return None
    send_verification(user, address)
    db.session.commit()
    return address


def init_mail_flows(app: Flask) -> None:
    """Let the worker fill in reset messages."""
    register_preparer(RESET, prepare_reset)
