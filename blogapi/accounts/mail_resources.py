"""Account flows by email: forgot and reset a password, verify an address, resend the link."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_restful import Resource

from blogapi.accounts.mail_flows import (
    ask_password_reset,
    resend_verification,
    reset_with_token,
    verify_address,
)
from blogapi.accounts.mailing import require_mail
from blogapi.accounts.schemas import (
    AcceptedSchema,
    ForgotPasswordSchema,
    PasswordResetSchema,
    PrivateUserSchema,
    TokenPairSchema,
    TokenSchema,
    private_user_schema,
)
from blogapi.accounts.sessions import issue_token_pair
from blogapi.db.models import email_key
from blogapi.extensions import limiter
from blogapi.security.guards import ACCESS, signed_in
from blogapi.security.ratelimit import audit_breach, per_address, per_user
from blogapi.web.body import peek_json_object
from blogapi.web.client import client_address
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError

ACCEPTED = Reply(AcceptedSchema, "Taken; the message goes out from the worker.")
MAIL_OFF = " 503 when mail is turned off (MAIL_URL=none)."
BAD_TOKEN = "The token is unknown, malformed, used, expired or of another kind (one answer)."
ON_ITS_WAY = (
    "If an account has this address, a message with a link to reset its password is on its way."
)


def forgot_limit() -> str:
    """The configured limit on asking for mailed links."""
    limit: str = current_app.config["FORGOT_RATE_LIMIT"]
    return limit


def mailbox_key() -> str:
    """Rate-limit key for the address a forgot request names, whoever sends it."""
    data = peek_json_object()
    email = data.get("email") if data is not None else None
    if not isinstance(email, str) or not email.strip():
        return f"address:{client_address()}"
    return f"email:{email_key(email)[:254]}"


forgot_per_address = limiter.limit(
    forgot_limit, key_func=client_address, scope="forgot-address", on_breach=audit_breach
)
forgot_per_email = limiter.limit(
    forgot_limit, key_func=mailbox_key, scope="forgot-email", on_breach=audit_breach
)


class ForgotPassword(Resource):
    """Ask for a password reset link by email."""

    @endpoint(
        summary="Forgot my password",
        description="Mails a link to reset the password to the account with this address. The "
        "answer is the same, in the same time, whether or not an account has it. Rate-limited "
        "per client address and per email address (FORGOT_RATE_LIMIT)." + MAIL_OFF,
        tag="auth",
        body=ForgotPasswordSchema,
        example={"email": "ada@example.com"},
        limits=(forgot_per_email, forgot_per_address),
        responses={202: ACCEPTED},
        extra={"security": []},
    )
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Stage the message; the worker sends it only if an account has the address."""
        require_mail()
        try:
            ask_password_reset(body["email"])
        except ValueError:  # an address no message can go to
            raise ApiError(
                422, "Invalid email address.", errors={"email": ["Not a valid email address."]}
            ) from None
        return {"detail": ON_ITS_WAY}, 202


class ResetPassword(Resource):
    """Set a new password with the token of a mailed reset link."""

    @endpoint(
        summary="Reset my password",
        description="Spends the token of a reset link (single use, PASSWORD_RESET_EXPIRES "
        "minutes) and sets the new password (the registration policy, else 422). Revokes "
        "every token of the user, personal access tokens included, mails a notice, and returns "
        "a new pair. Any bad token is the same 400." + MAIL_OFF,
        tag="auth",
        body=PasswordResetSchema,
        limits=(per_address,),
        responses={200: Reply(TokenPairSchema, "A new token pair."), 400: BAD_TOKEN},
        extra={"security": []},
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Reset, then log in with the new password."""
        require_mail()
        user = reset_with_token(body["token"], body["new_password"])
        return issue_token_pair(user, fresh=True)


class VerifyEmail(Resource):
    """Prove an address with the token of a mailed verification link."""

    @endpoint(
        summary="Verify my email address",
        description="Spends the token of a verification link: the address is verified, and a "
        "pending address becomes the account's email (409 if another account has it by then). "
        "Any bad token is the same 400." + MAIL_OFF,
        tag="auth",
        body=TokenSchema,
        limits=(per_address,),
        responses={
            200: Reply(PrivateUserSchema, "The account, its address verified."),
            400: BAD_TOKEN,
            409: "Another account has the address now.",
        },
        extra={"security": []},
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Verify and show the account."""
        require_mail()
        shown: dict[str, Any] = private_user_schema.dump(verify_address(body["token"]))
        return shown


class ResendVerification(Resource):
    """Mail a new verification link."""

    @endpoint(
        summary="Resend the verification link",
        description="Mails a new link to the pending address, else to the unverified email; "
        "older links stop working. With nothing to verify, 202 and no message. Rate-limited "
        "per user and client address (FORGOT_RATE_LIMIT)." + MAIL_OFF,
        tag="auth",
        auth=ACCESS,
        limits=per_user(forgot_limit, "email-resend", also_per_address=True),
        responses={202: ACCEPTED},
    )
    def post(self) -> tuple[dict[str, Any], int]:
        """Stage the message, or say there is nothing to verify."""
        require_mail()
        address = resend_verification(signed_in())
        if address is None:
            return {"detail": "Your email address is already verified."}, 202
        return {"detail": f"A new verification link is on its way to {address}."}, 202
