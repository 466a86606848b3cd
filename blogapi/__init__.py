"""blogapi: a JSON blog API. `create_app()` builds the Flask application."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from blogapi import cli
from blogapi.accounts.mail_flows import init_mail_flows
from blogapi.db import triggers as _triggers  # noqa: F401  (create_all installs the triggers too)
from blogapi.extensions import db, jwt, migrate
from blogapi.indieauth.errors import init_indieauth
from blogapi.micropub.errors import init_micropub
from blogapi.observability.http_requests import init_request_observation
from blogapi.observability.logs import configure_logging
from blogapi.observability.pool import watch_pool
from blogapi.observability.tracing import init_tracing
from blogapi.routes import register_routes
from blogapi.security.jwt import register_jwt_callbacks
from blogapi.security.keys import register_signing_keys
from blogapi.security.passwords import init_passwords
from blogapi.security.ratelimit import init_rate_limits
from blogapi.site.setup import init_site
from blogapi.web.body import refuse_long_url, refuse_nul_in_url
from blogapi.web.cors import register_cors
from blogapi.web.errors import register_error_handlers
from blogapi.web.fast_reads import init_fast_reads
from blogapi.web.headers import register_security_headers
from blogapi.web.public_cache import init_public_cache
from blogapi.web.sessions import NoSessions
from blogapi.webhooks.setup import init_webhooks
from config import Config, ConfigError, load_config


def create_app(config: Config | str | None = None, **overrides: Any) -> Flask:
    """Build the app from a Config (default: from BLOGAPI_ENV), with optional overrides."""
    settings = resolve_config(config)
    app = Flask(__name__, instance_path=str(settings.INSTANCE_DIR), static_folder=None)
    # Werkzeug answers "//" in a path with an HTML 308 to a Location built from the Host
    # header, past every error handler; a JSON API answers it with a 404 problem instead.
    app.url_map.merge_slashes = False
    app.config.from_object(settings)
    app.config.update(overrides)
    app.session_interface = NoSessions()
    register_logging(app)
    init_fast_reads(app)  # inside the proxy fix: it sees the request as Flask does
    register_proxy_fix(app)
    register_extensions(app)
    run_checked(register_signing_keys, app)
    register_error_handlers(app)
    app.before_request(refuse_long_url)
    app.before_request(refuse_nul_in_url)  # what no endpoint should see, before any view runs
    register_routes(app)
    init_site(app)
    init_micropub(app)
    init_indieauth(app)
    init_webhooks(app)
    init_mail_flows(app)
    register_security_headers(app)
    run_checked(register_cors, app)
    cli.init_app(app)
    init_request_observation(app)  # sees every answer, replayed or not
    run_checked(init_tracing, app)  # last: its span wraps the whole WSGI chain built above
    return app


def resolve_config(config: Config | str | None) -> Config:
    """Turn a name or nothing into a checked Config; a bad environment exits with one line."""
    if isinstance(config, Config):
        return config
    try:
        return load_config(config)
    except ConfigError as exc:
        config_failed(exc)


def config_failed(error: ConfigError) -> NoReturn:
    """Exit with one line naming what is wrong."""
    sys.stderr.write(f"blogapi: configuration error: {error}\n")
    raise SystemExit(4) from None  # 4: gunicorn's "App failed to load", so it stops


def register_logging(app: Flask) -> None:
    """The app's log lines (audit events among them) go to stderr in LOG_FORMAT."""
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"], propagate=app.testing)


def register_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* only from as many proxies as TRUSTED_PROXIES says."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        # Flask's documented way to add WSGI middleware; its stubs declare wsgi_app a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def register_extensions(app: Flask) -> None:
    """Bind database, migrations, JWT, rate limiter and password hashing."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    jwt.init_app(app)
    register_jwt_callbacks(app)
    init_rate_limits(app)
    init_passwords(app)
    init_public_cache(app)
    with app.app_context():
        watch_pool(db.engine)


def run_checked(step: Callable[[Flask], None], app: Flask) -> None:
    """Run a set-up step that reads settings; a bad setting exits with one line naming it."""
    try:
        step(app)
    except ConfigError as exc:
        config_failed(exc)
