"""The routing table: every endpoint of blogapi, API and site root alike, is listed here once."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask_restful import Resource

from blogapi.accounts.auth_resources import Login, Logout, Me, Password, Register, TokenRefresh
from blogapi.accounts.mail_resources import (
    ForgotPassword,
    ResendVerification,
    ResetPassword,
    VerifyEmail,
)
from blogapi.accounts.token_resources import TokenItem, TokenList
from blogapi.accounts.user_resources import UserItem, UserList
from blogapi.docs.openapi import init_openapi
from blogapi.docs.resources import DocsAsset, DocsPage, OpenApiDocument
from blogapi.indieauth.resources import Authorization, Introspect, Metadata, Revoke, Token
from blogapi.media.resources import MediaFile, MediaItem, MediaList
from blogapi.micropub.resources import Micropub, MicropubMedia
from blogapi.posts.history.resources import (
    PostRestore,
    RevisionDiff,
    RevisionItem,
    RevisionList,
    RevisionRestore,
    TrashItem,
    TrashList,
)
from blogapi.posts.resources import PostItem, PostList, PostPublish, PostUnpublish, TagList
from blogapi.security.jwks import JWKS_PATH, Jwks
from blogapi.site.account_pages import ResetPasswordPage, VerifyEmailPage
from blogapi.site.feed_resources import AtomFeed, JsonFeed, Robots, RssFeed, Sitemap, SitemapPart
from blogapi.site.page_resources import AuthorPage, HomePage, PostPage, SiteAsset, TagPage
from blogapi.web.api import make_api
from blogapi.web.health import Health, Ready
from blogapi.web.monitoring import Metrics
from blogapi.web.urls import API_PREFIX
from blogapi.webhooks.resources import (
    WebhookDeliveries,
    WebhookItem,
    WebhookList,
    WebhookPing,
    WebhookRedeliver,
)

REVISION = "<int(min=1, max=2147483647):number>"  # a revision's number; anything else: 404
MEDIA_ID = "<int(min=1, max=2147483647):media_id>"
TOKEN_ID = "<int(min=1, max=2147483647):token_id>"
WEBHOOK_ID = "<int(min=1, max=2147483647):webhook_id>"
DELIVERY_ID = "<int(min=1, max=2147483647):delivery_id>"
SITEMAP_PART = "<int(min=1, max=2147483647):part>"


@dataclass(frozen=True)
class Route:
    """One resource at one URL rule, with its endpoint name (also its operationId's stem)."""

    resource: type[Resource]
    rule: str
    endpoint: str
    at_site_root: bool = False  # served outside API_PREFIX (well-known URLs)
    documented: bool = True  # an operation of the OpenAPI document (not a static asset)

    @property
    def path(self) -> str:
        """The URL rule as served, prefix included."""
        return self.rule if self.at_site_root else API_PREFIX + self.rule


ROUTES: tuple[Route, ...] = (
    Route(Health, "/health", "health"),
    Route(Ready, "/health/ready", "health_ready"),
    Route(OpenApiDocument, "/openapi.json", "openapi"),
    Route(Register, "/auth/register", "auth_register"),
    Route(Login, "/auth/login", "auth_login"),
    Route(TokenRefresh, "/auth/refresh", "auth_refresh"),
    Route(Logout, "/auth/logout", "auth_logout"),
    Route(Me, "/auth/me", "auth_me"),
    Route(Password, "/auth/password", "auth_password"),
    Route(ForgotPassword, "/auth/password/forgot", "auth_password_forgot"),
    Route(ResetPassword, "/auth/password/reset", "auth_password_reset"),
    Route(VerifyEmail, "/auth/email/verify", "auth_email_verify"),
    Route(ResendVerification, "/auth/email/resend", "auth_email_resend"),
    Route(TokenList, "/auth/tokens", "auth_token_list"),
    Route(TokenItem, f"/auth/tokens/{TOKEN_ID}", "auth_token_item"),
    Route(UserList, "/users", "user_list"),
    Route(UserItem, "/users/<string:username>", "user_item"),
    Route(PostList, "/posts", "post_list"),
    Route(PostItem, "/posts/<string:ident>", "post_item"),
    Route(PostPublish, "/posts/<string:ident>/publish", "post_publish"),
    Route(PostUnpublish, "/posts/<string:ident>/unpublish", "post_unpublish"),
    Route(PostRestore, "/posts/<string:ident>/restore", "post_restore"),
    Route(RevisionList, "/posts/<string:ident>/revisions", "revision_list"),
    Route(RevisionItem, f"/posts/<string:ident>/revisions/{REVISION}", "revision_item"),
    Route(RevisionDiff, f"/posts/<string:ident>/revisions/{REVISION}/diff", "revision_diff"),
    Route(
        RevisionRestore, f"/posts/<string:ident>/revisions/{REVISION}/restore", "revision_restore"
    ),
    Route(TrashList, "/trash", "trash_list"),
    Route(TrashItem, "/trash/<string:ident>", "trash_item"),
    Route(TagList, "/tags", "tag_list"),
    Route(MediaList, "/media", "media_list"),
    Route(MediaItem, f"/media/{MEDIA_ID}", "media_item"),
    Route(WebhookList, "/webhooks", "webhook_list"),
    Route(WebhookItem, f"/webhooks/{WEBHOOK_ID}", "webhook_item"),
    Route(WebhookDeliveries, f"/webhooks/{WEBHOOK_ID}/deliveries", "webhook_deliveries"),
    Route(
        WebhookRedeliver,
        f"/webhooks/{WEBHOOK_ID}/deliveries/{DELIVERY_ID}/redeliver",
        "webhook_redeliver",
    ),
    Route(WebhookPing, f"/webhooks/{WEBHOOK_ID}/ping", "webhook_ping"),
    Route(DocsPage, "/docs", "docs"),
    Route(DocsAsset, "/docs/assets/<path:filename>", "docs_asset", documented=False),
    Route(Jwks, JWKS_PATH, "jwks", at_site_root=True),
    Route(Metrics, "/metrics", "metrics", at_site_root=True),
    Route(MediaFile, "/media/<string:key>", "media_file", at_site_root=True),
    Route(AtomFeed, "/feed.atom", "feed_atom", at_site_root=True),
    Route(RssFeed, "/feed.rss", "feed_rss", at_site_root=True),
    Route(JsonFeed, "/feed.json", "feed_json", at_site_root=True),
    Route(Sitemap, "/sitemap.xml", "sitemap", at_site_root=True),
    Route(SitemapPart, f"/sitemap-{SITEMAP_PART}.xml", "sitemap_part", at_site_root=True),
    Route(Robots, "/robots.txt", "robots", at_site_root=True),
    Route(Micropub, "/micropub", "micropub", at_site_root=True),
    Route(MicropubMedia, "/micropub/media", "micropub_media", at_site_root=True),
    Route(
        Metadata, "/.well-known/oauth-authorization-server", "indieauth_metadata", at_site_root=True
    ),
    Route(Authorization, "/indieauth/auth", "indieauth_auth", at_site_root=True),
    Route(Token, "/indieauth/token", "indieauth_token", at_site_root=True),
    Route(Introspect, "/indieauth/introspect", "indieauth_introspect", at_site_root=True),
    Route(Revoke, "/indieauth/revoke", "indieauth_revoke", at_site_root=True),
    Route(HomePage, "/", "site_home", at_site_root=True),
    Route(PostPage, "/posts/<string:slug>", "site_post", at_site_root=True),
    Route(TagPage, "/tags/<string:slug>", "site_tag", at_site_root=True),
    Route(AuthorPage, "/authors/<string:username>", "site_author", at_site_root=True),
    Route(ResetPasswordPage, "/reset-password", "site_reset_password", at_site_root=True),
    Route(VerifyEmailPage, "/verify-email", "site_verify_email", at_site_root=True),
    Route(SiteAsset, "/assets/<path:filename>", "site_asset", at_site_root=True, documented=False),
)


def register_routes(app: Flask) -> None:
    """Bind every resource of the routing table to the app."""
    api = make_api(API_PREFIX)
    for route in ROUTES:
        if route.at_site_root:
            app.add_url_rule(route.rule, view_func=route.resource.as_view(route.endpoint))
        else:
            api.add_resource(route.resource, route.rule, endpoint=route.endpoint)
    api.init_app(app)
    init_openapi(app, ROUTES, API_PREFIX)
