"""Authorization codes: issued after consent, spent once at the token (or authorization)
endpoint within 60 seconds, by the client they were issued to, with the PKCE verifier.

A code is kept as its SHA-256. Spending it is one conditional UPDATE, so two instances racing
with the same code cannot both win; a code spent twice revokes the token its first exchange
issued (RFC 6749 section 4.1.2). Each function commits (see accounts/service.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update

from blogapi.db.models import AuthorizationCode, PersonalToken, User
from blogapi.db.single_use import spend_once
from blogapi.extensions import db
from blogapi.indieauth.authorization import AuthRequest
from blogapi.security.audit import audit
from blogapi.security.personal_tokens import digest  # how a secret is stored and looked up
from blogapi.timeutil import utcnow
from blogapi.web.errors import ApiError

CODE_LIFETIME = timedelta(seconds=60)
KEPT_AFTER_EXPIRY = timedelta(minutes=10)  # a replay within this is still recognised
REPLAYED = "This code was already used; any token it gave is now revoked."
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 section 4.1


def grant_error(description: str) -> ApiError:
    """400 invalid_grant, OAuth's answer for a code that cannot be spent."""
    return ApiError(400, description, extra={"error": "invalid_grant"})


def challenge_of(verifier: str) -> str:
    """The S256 challenge of a PKCE verifier."""
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def issue_code(user: User, auth: AuthRequest, scopes: Sequence[str], client_name: str) -> str:
    """A new code for what the writer granted; commit. Codes long dead go at the same time."""
    code = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(
        delete(AuthorizationCode).where(AuthorizationCode.expires_at < now - KEPT_AFTER_EXPIRY)
    )
    db.session.add(
        AuthorizationCode(
            code_hash=digest(code),
            user_id=user.id,
            client_id=auth.client_id,
            client_name=client_name,
            redirect_uri=auth.redirect_uri,
            code_challenge=auth.code_challenge,
            scopes=" ".join(scopes),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
    )
    db.session.commit()
    audit("indieauth_code_issued", user=user, client_id=auth.client_id, scopes=" ".join(scopes))
    return code


def spend_code(
    code: str | None, client_id: str | None, redirect_uri: str | None, verifier: str | None
) -> AuthorizationCode:
    """The code's row, spent now, if it was issued to this client and redirect URI, is not
    expired and the verifier matches its challenge; invalid_grant otherwise (the code is spent
    either way). A code spent before revokes the token its first exchange issued."""
    if not code or not client_id or not redirect_uri:
        raise ApiError(400, "Send code, client_id, redirect_uri and code_verifier.")
    if not verifier:
        raise grant_error("code_verifier is required (PKCE).")
    found = db.session.scalar(
        select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(code))
    )
    if found is None:
        raise grant_error("This code is not valid.")
    if not spend_once(db.session, AuthorizationCode, found.id):
        db.session.rollback()
        replayed(found.id)
        raise grant_error(REPLAYED)
    db.session.commit()
    if found.expires_at < utcnow():
        raise grant_error("This code has expired; codes last 60 seconds.")
    if found.client_id != client_id or found.redirect_uri != redirect_uri:
        raise grant_error("This code was issued to another client_id or redirect_uri.")
    if not VERIFIER.fullmatch(verifier) or not hmac.compare_digest(
        challenge_of(verifier), found.code_challenge
    ):
        raise grant_error("code_verifier does not match the code_challenge.")
    return found


def replayed(code_id: int) -> None:
    """A spent code came back: mark it, and revoke the token its first exchange issued (an
    exchange still under way sees the mark and issues none); commit."""
    db.session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code_id)
        .values(replayed_at=utcnow())
    )
    found = db.session.get(AuthorizationCode, code_id)
    token = None if found is None or found.token_id is None else found.token_id
    if token is not None:
        db.session.execute(delete(PersonalToken).where(PersonalToken.id == token))
    db.session.commit()
    if found is not None:
        audit(
            "indieauth_code_replayed", user_id=found.user_id, client_id=found.client_id,
            revoked_token_id=token,
        )  # fmt: skip


def attach_token(code: AuthorizationCode, token_id: int) -> bool:
    """Record the token a code's exchange made, in the caller's transaction (the caller
    commits); False when the code was replayed meanwhile (then no token must be issued)."""
    attached = cast(
        CursorResult[Any],
        db.session.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == code.id, AuthorizationCode.replayed_at.is_(None))
            .values(token_id=token_id)
        ),
    )
    return attached.rowcount == 1


def purge_codes() -> int:
    """Delete codes past their life (and the replay window); commit; how many went."""
    purged = cast(
        CursorResult[Any],
        db.session.execute(
            delete(AuthorizationCode).where(
                AuthorizationCode.expires_at < utcnow() - KEPT_AFTER_EXPIRY
            )
        ),
    )
    db.session.commit()
    return purged.rowcount
