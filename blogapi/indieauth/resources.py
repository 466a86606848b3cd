"""IndieAuth's endpoints: server metadata, the authorization endpoint (consent page and the
profile-only exchange), the token endpoint, introspection and revocation."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask_restful import Resource

from blogapi.accounts.sessions import check_credentials
from blogapi.indieauth.authorization import (
    ClientRedirect,
    back_to,
    hinted_username,
    issuer,
    read_request,
)
from blogapi.indieauth.codes import issue_code, spend_code
from blogapi.indieauth.consent import browser_value, checked_form, form_token, set_cookie
from blogapi.indieauth.docs import (
    AUTHORIZE_DOC,
    AUTHORIZE_POST_DOC,
    INTROSPECT_DOC,
    METADATA_DOC,
    REVOKE_DOC,
    TOKEN_DOC,
)
from blogapi.indieauth.grants import active_user, profile_reply, token_reply
from blogapi.indieauth.introspection import introspection, revocable
from blogapi.indieauth.pages import consent_page
from blogapi.indieauth.scopes import SUPPORTED
from blogapi.indieauth.urls import comparable
from blogapi.security.guards import ACCESS, ANY_SCOPE, signed_in
from blogapi.security.ratelimit import per_account, per_address
from blogapi.site.links import authorization_endpoint_url, token_endpoint_url
from blogapi.site.pages import site_enabled
from blogapi.web.api import bodiless, output_json
from blogapi.web.endpoint import endpoint
from blogapi.web.errors import ApiError
from blogapi.web.urls import API_PREFIX, external_url

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_no_store(data: Any) -> Response:
    """A JSON answer that carries credentials or identity: never cached (RFC 6749 5.1)."""
    return output_json(data, 200, NO_STORE)


def back_to_client(location: str) -> Response:
    """A 302 to the client's redirect URI."""
    return bodiless(302, {"Location": location, **NO_STORE})


def exchange_fields() -> tuple[str | None, str | None, str | None, str | None]:
    """A code exchange's code, client_id, redirect_uri and code_verifier, after checking its
    grant_type (OAuth's unsupported_grant_type when it is another)."""
    form = request.form
    grant = form.get("grant_type")
    if grant is not None and grant != "authorization_code":
        raise ApiError(
            400,
            "Only grant_type=authorization_code is supported.",
            extra={"error": "unsupported_grant_type"},
        )
    return (
        form.get("code"),
        comparable(form.get("client_id")),
        comparable(form.get("redirect_uri")),
        form.get("code_verifier"),
    )


def is_exchange() -> bool:
    """Whether a POST to the authorization endpoint is a client's code exchange (not the
    consent form)."""
    return "code" in request.form and "csrf_token" not in request.form


class Metadata(Resource):
    """GET /.well-known/oauth-authorization-server."""

    @endpoint(**METADATA_DOC)
    def get(self) -> Response:
        """The server's endpoints and what they support."""
        site_enabled()
        return output_json(
            {
                "issuer": issuer(),
                "authorization_endpoint": authorization_endpoint_url(),
                "token_endpoint": token_endpoint_url(),
                "introspection_endpoint": external_url("/indieauth/introspect"),
                "introspection_endpoint_auth_methods_supported": ["Bearer"],
                "revocation_endpoint": external_url("/indieauth/revoke"),
                "revocation_endpoint_auth_methods_supported": ["none"],
                "scopes_supported": list(SUPPORTED),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "authorization_response_iss_parameter_supported": True,
                "service_documentation": external_url(f"{API_PREFIX}/docs"),
            },
            200,
        )


class Authorization(Resource):
    """GET: the sign-in and consent page. POST: the writer's answer, or a client's
    profile-only code exchange."""

    @endpoint(**AUTHORIZE_DOC)
    def get(self) -> Response:
        """Check the request and show the page (or send the client its error)."""
        site_enabled()
        try:
            auth, client = read_request(request.args)
        except ClientRedirect as refused:
            return back_to_client(refused.location)
        value = browser_value()
        page = consent_page(
            auth,
            client.name,
            form_token(auth, client.name, value),
            username=hinted_username(auth.me) or "",
            client_url=client.url,
        )
        return set_cookie(page, value)

    @endpoint(limits=(per_account, per_address), **AUTHORIZE_POST_DOC)
    def post(self) -> Response:
        """Issue a code for what the writer granted, or answer a profile exchange."""
        site_enabled()
        if is_exchange():
            code = spend_code(*exchange_fields())
            active_user(code)
            return json_no_store(profile_reply(code))
        form = request.form
        token = form.get("csrf_token")
        auth, client_name = checked_form(token)
        if form.get("decision") == "deny":
            denied = {"error": "access_denied", "error_description": "The writer said no."}
            return back_to_client(back_to(auth.redirect_uri, {**denied, "state": auth.state}))
        username = form.get("username", "")
        try:
            user = check_credentials(username, form.get("password", ""))
        except ApiError as refused:
            assert token is not None  # checked_form refuses a form without one
            # The form again, saying why; 400 (a 401 would need a WWW-Authenticate scheme).
            status = 403 if refused.status == 403 else 400
            return consent_page(
                auth, client_name, token, username=username, error=refused.detail, status=status
            )
        kept = set(form.getlist("scope"))
        granted = [scope for scope in auth.scopes if scope in kept]
        issued = issue_code(user, auth, granted, client_name)
        return back_to_client(back_to(auth.redirect_uri, {"code": issued, "state": auth.state}))


class Token(Resource):
    """POST /indieauth/token: a code for a personal access token."""

    @endpoint(limits=(per_address,), **TOKEN_DOC)
    def post(self) -> Response:
        """Spend the code; answer the token, `me` and (if granted) the profile."""
        site_enabled()
        if request.form.get("action") == "revoke":  # the older spec's revocation
            revocable(request.form.get("token"))
            return json_no_store({})
        code, client_id, redirect_uri, verifier = exchange_fields()
        if request.form.get("grant_type") is None:
            raise ApiError(400, "grant_type=authorization_code is required.")
        return json_no_store(token_reply(spend_code(code, client_id, redirect_uri, verifier)))


class Introspect(Resource):
    """POST /indieauth/introspect: what a personal access token is (RFC 7662)."""

    @endpoint(auth=ACCESS.with_token(ANY_SCOPE), **INTROSPECT_DOC)
    def post(self) -> Response:
        """`active`, and the token's `me`, `client_id`, `scope`, `iat` and `exp`."""
        site_enabled()
        token = request.form.get("token")
        if not token:
            raise ApiError(400, "Send the token to introspect as `token`.")
        return json_no_store(introspection(token, signed_in()))


class Revoke(Resource):
    """POST /indieauth/revoke: revoke a personal access token (RFC 7009)."""

    @endpoint(limits=(per_address,), **REVOKE_DOC)
    def post(self) -> Response:
        """Revoke it if it is one; 200 either way."""
        site_enabled()
        token = request.form.get("token")
        if not token:
            raise ApiError(400, "Send the token to revoke as `token`.")
        revocable(token)
        return json_no_store({})
