"""Schemas for accounts: registration, login, profiles and admin changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields, validate, validates_schema

from blogapi.mail.outbox import check_address
from blogapi.security.password_policy import password_problems
from blogapi.security.personal_tokens import SCOPES
from blogapi.security.roles import ROLES
from blogapi.web.fields import (
    StrictBoolean,
    StrictSchema,
    TrimmedString,
    UTCDateTimeField,
    one_line,
)
from blogapi.web.schemas import page_of

if TYPE_CHECKING:
    from blogapi.db.models import PersonalToken

USERNAME = validate.Regexp(
    r"^[A-Za-z0-9_-]{3,32}$",
    error="Use 3 to 32 letters, digits, hyphens or underscores.",
)
PASSWORD_MAX = 1024
ROLE = validate.OneOf(ROLES)


def password_field(**kwargs: Any) -> fields.String:
    """A write-only password field; the policy is checked where the username is known."""
    return fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=PASSWORD_MAX), **kwargs
    )


class MailAddress(fields.Email):
    """An email address mail can go to: marshmallow's Email also takes non-ASCII local parts
    (straße@…) that the mailer refuses, which would fail later, inside the request."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        """The address, or the field's one error."""
        address = super()._deserialize(value, attr, data, **kwargs)
        try:
            check_address(address)
        except ValueError:
            raise self.make_error("invalid") from None
        return address


def check_password(password: str, username: str, email: str, field: str) -> None:
    """Raise a field error when the password breaks the policy."""
    problems = password_problems(password, username=username, email=email)
    if problems:
        raise ValidationError(problems, field)


class RegisterSchema(StrictSchema):
    """POST /auth/register."""

    username = TrimmedString(required=True, validate=USERNAME)
    email = MailAddress(required=True, validate=validate.Length(max=254))
    password = password_field()
    display_name = TrimmedString(validate=[validate.Length(max=100), one_line])

    @validates_schema(skip_on_field_errors=False)
    def _password_policy(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "password" in data:
            check_password(
                data["password"], data.get("username", ""), data.get("email", ""), "password"
            )


class LoginSchema(StrictSchema):
    """POST /auth/login: `username` may also be the email."""

    username = TrimmedString(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=PASSWORD_MAX)
    )


class LogoutSchema(StrictSchema):
    """POST /auth/logout."""

    refresh_token = fields.String(validate=validate.Length(min=1, max=4096))
    all = StrictBoolean(load_default=False)


class PasswordChangeSchema(StrictSchema):
    """PUT /auth/password."""

    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=PASSWORD_MAX)
    )
    new_password = password_field()


class MeUpdateSchema(StrictSchema):
    """PATCH /auth/me: the fields a user may change about themselves."""

    email = MailAddress(validate=validate.Length(max=254))
    display_name = TrimmedString(validate=[validate.Length(max=100), one_line])
    bio = TrimmedString(validate=validate.Length(max=1000))


class ForgotPasswordSchema(StrictSchema):
    """POST /auth/password/forgot."""

    email = MailAddress(required=True, validate=validate.Length(max=254))


class TokenSchema(StrictSchema):
    """POST /auth/email/verify: the token of a mailed link."""

    token = fields.String(
        required=True, metadata={"description": "The token of the link in the message."}
    )


class PasswordResetSchema(TokenSchema):
    """POST /auth/password/reset."""

    new_password = password_field()


class AcceptedSchema(StrictSchema):
    """A request taken: what happens next."""

    detail = fields.String(dump_only=True, required=True)


class AdminUserUpdateSchema(StrictSchema):
    """PATCH /users/{username}: what an admin may change."""

    role = fields.String(validate=ROLE)
    active = StrictBoolean()


class PublicUserSchema(StrictSchema):
    """A profile anyone may see: never the email."""

    username = fields.String(dump_only=True, required=True)
    display_name = fields.String(dump_only=True, required=True)
    bio = fields.String(dump_only=True, required=True)
    role = fields.String(dump_only=True, required=True, validate=ROLE)  # documents the enum
    created_at = UTCDateTimeField(dump_only=True, required=True)


class PrivateUserSchema(PublicUserSchema):
    """The profile its owner and admins see."""

    id = fields.Integer(dump_only=True, required=True)
    email = fields.String(dump_only=True, required=True)
    active = fields.Boolean(dump_only=True, required=True)
    email_verified = fields.Boolean(
        dump_only=True,
        required=True,
        metadata={"description": "Whether `email` was proven by a link mailed to it."},
    )
    pending_email = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={
            "description": "An address asked for with PATCH /auth/me: it becomes `email` when "
            "the link mailed to it is followed."
        },
    )
    updated_at = UTCDateTimeField(dump_only=True, required=True)


class TokenPairSchema(StrictSchema):
    """An access and a refresh token, and who they belong to."""

    access_token = fields.String(dump_only=True, required=True)
    refresh_token = fields.String(dump_only=True, required=True)
    token_type = fields.String(dump_only=True, required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        dump_only=True, required=True, metadata={"description": "Access token life in seconds."}
    )
    user = fields.Nested(PrivateUserSchema, dump_only=True, required=True)


UserPageSchema = page_of(PrivateUserSchema, "UserPage")

register_schema = RegisterSchema()
public_user_schema = PublicUserSchema()
private_user_schema = PrivateUserSchema()


class TokenRequestSchema(StrictSchema):
    """POST /auth/tokens: what the new personal access token is for and may do."""

    name = TrimmedString(
        required=True,
        validate=[validate.Length(min=1, max=100), one_line],
        metadata={"description": "What the token is for, e.g. the app that holds it."},
    )
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)),
        required=True,
        validate=validate.Length(min=1, max=len(SCOPES)),
        metadata={
            "description": "What it may do, within its user's role (`draft`: what it "
            "creates stays a draft, and it cannot publish)."
        },
    )
    expires_in_days = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "Days until it stops working; omit or null for never."},
    )


class PersonalTokenSchema(StrictSchema):
    """A personal access token as its owner sees it: never the secret, except once at creation."""

    id = fields.Integer(dump_only=True, required=True)
    name = fields.String(dump_only=True, required=True)
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)), dump_only=True, required=True
    )
    created_at = UTCDateTimeField(dump_only=True, required=True)
    expires_at = UTCDateTimeField(dump_only=True, required=True, allow_none=True)
    last_used_at = UTCDateTimeField(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "Recorded to the minute."},
    )


class NewPersonalTokenSchema(PersonalTokenSchema):
    """A token just made: the only time its secret is shown."""

    token = fields.String(
        dump_only=True,
        required=True,
        metadata={
            "description": "`blogapi_pat_` and the secret: shown only now, stored only as a hash."
        },
    )


personal_token_schema = PersonalTokenSchema()
new_personal_token_schema = NewPersonalTokenSchema()


def token_json(token: PersonalToken, secret: str | None = None) -> dict[str, Any]:
    """A token as the API shows it (the secret only when just made)."""
    fields = {
        "id": token.id,
        "name": token.name,
        "scopes": token.scopes.split(),  # stored in the contract's order
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
    }
    if secret is None:
        shown: dict[str, Any] = personal_token_schema.dump(fields)
        return shown
    made: dict[str, Any] = new_personal_token_schema.dump({**fields, "token": secret})
    return made
