"""The pages a mailed link opens: set a new password (GET /reset-password?token=…), and
confirm an address (GET /verify-email?token=…). Small server-rendered forms in the reader
pages' look, no script, CSRF-protected; GET never spends a token (mail scanners fetch links),
and each POST runs the service function the API's endpoint runs."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request
from flask_restful import Resource
from marshmallow import ValidationError

from blogapi.accounts.mail_flows import (
    reset_token_user,
    reset_with_token,
    verify_address,
    verify_token_address,
)
from blogapi.accounts.mailing import require_mail
from blogapi.site.pages import page_headers, template_helpers
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.form_guard import FormGuard

HTML = "text/html"
PAGE = {"type": "string"}
RESET_GUARD = FormGuard("blogapi.accounts.reset-page", "reset_csrf", 30 * 60)
VERIFY_GUARD = FormGuard("blogapi.accounts.verify-page", "verify_csrf", 30 * 60)
STALE = "This form has expired or was not sent from this site's page; open the link again."
MISMATCH = "The two passwords differ; type the same new password twice."


def account_page(template: str, status: int = 200, **context: Any) -> Response:
    """A page of these forms: the pages' headers, never cached, and no Referer carrying the
    token to another site (same-origin, not no-referrer: with no-referrer a browser posts the
    form with `Origin: null`, which the form check refuses)."""
    html = render_template(template, **template_helpers(), **context)
    response = page_headers(Response(html, status=status, mimetype=HTML))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def form_doc(summary: str, description: str, fields: list[str], done: str) -> dict[str, Any]:
    """What the OpenAPI document says of a form's POST."""
    properties = {name: {"type": "string"} for name in fields}
    body = {"type": "object", "properties": properties, "required": fields}
    return {
        "summary": summary,
        "description": description + " 503 when mail is off.",
        "tag": "site",
        "responses": {
            200: Reply(PAGE, done, media_type=HTML),
            400: "A link that is invalid or has expired (a page for browsers).",
            403: "A form that is stale or not posted from this site's page.",
            422: "The form again, saying what to change (a weak or mistyped password), or "
            "fields no form sends (NUL characters).",
        },
        "extra": {
            "requestBody": {
                "required": True,
                "content": {"application/x-www-form-urlencoded": {"schema": body}},
            },
            "servers": [{"url": "/"}],
            "security": [],
        },
    }


def get_doc(summary: str, description: str) -> dict[str, Any]:
    """What the OpenAPI document says of a form's GET."""
    return {
        "summary": summary,
        "description": description + " GET shows the form and spends nothing; 503 when mail "
        "is off.",
        "tag": "site",
        "responses": {
            200: Reply(PAGE, "The form.", media_type=HTML),
            400: "A link that is invalid or has expired (a page for browsers).",
            422: "A query no mailed link has (NUL characters).",
        },
        "extra": {
            "parameters": [
                {"in": "query", "name": "token", "required": True, "schema": {"type": "string"}}
            ],
            "servers": [{"url": "/"}],
            "security": [],
        },
    }


def form_page(guard: FormGuard, template: str, token: str, **context: Any) -> Response:
    """A form bound to this browser and to the mailed token."""
    value = guard.browser_value()
    page = account_page(template, token=token, csrf_token=guard.form_token(value, token), **context)
    return guard.set_cookie(page, value)


def posted_token(guard: FormGuard) -> str:
    """The mailed token a form posted, once mail is on and the form passed its guard (the one
    403 otherwise)."""
    require_mail()
    token = request.form.get("token", "")
    if not guard.accepts(request.form.get("csrf_token"), token):
        raise ApiError(403, STALE)
    return token


class ResetPasswordPage(Resource):
    """The page a password reset link opens."""

    @endpoint(**get_doc("Reset password page", "The form for a new password (twice)."))
    def get(self) -> Response:
        """Show the form when the link still works."""
        require_mail()
        token = request.args.get("token", "")
        user = reset_token_user(token)
        return form_page(RESET_GUARD, "reset_password.html", token, username=user.username)

    @endpoint(
        **form_doc(
            "Reset password (form)",
            "The form's answer: the same reset as POST /api/v1/auth/password/reset. A weak or "
            "mistyped password shows the form again (422).",
            ["csrf_token", "token", "password", "password_again"],
            "The password is set.",
        )
    )
    def post(self) -> Response:
        """Reset the password, or show the form again saying why not."""
        token = posted_token(RESET_GUARD)
        form = request.form
        password = form.get("password", "")
        user = reset_token_user(token)
        if password != form.get("password_again", ""):
            problems = [MISMATCH]
        else:
            try:
                reset_with_token(token, password, field="password")
            except ValidationError as refused:
                problems = [str(m) for m in refused.normalized_messages().get("password", [])]
            else:
                return account_page("account_done.html", title="Password set", done="reset")
        return account_page(
            "reset_password.html",
            status=422,
            token=token,
            csrf_token=form.get("csrf_token"),
            username=user.username,
            problems=problems,
        )


class VerifyEmailPage(Resource):
    """The page an address verification link opens: a button, so that a scanner fetching the
    link verifies nothing."""

    @endpoint(**get_doc("Verify email page", "A button confirming the address."))
    def get(self) -> Response:
        """Show the button when the link still works."""
        require_mail()
        token = request.args.get("token", "")
        address = verify_token_address(token)
        return form_page(VERIFY_GUARD, "verify_email.html", token, address=address)

    @endpoint(
        **form_doc(
            "Verify email (form)",
            "The button's answer: the same verification as POST /api/v1/auth/email/verify.",
            ["csrf_token", "token"],
            "The address is verified.",
        )
    )
    def post(self) -> Response:
        """Verify the address."""
        user = verify_address(posted_token(VERIFY_GUARD))
        return account_page(
            "account_done.html", title="Address verified", done="verified", address=user.email
        )
