"""The private hooks blogapi overrides, and the private attributes it reads, still exist in the
installed libraries with the parameters our code passes, and the libraries still call them.

blogapi/extensions.py overrides Limiter._check_request_limit (reading the limit manager's
default and application limits and Limiter._meta_limits) and
JWTManager._decode_jwt_from_config (reading flask_jwt_extended.config's leeway);
blogapi/db/engine.py overrides SQLAlchemy._teardown_session; blogapi/web/fields.py overrides
marshmallow's documented Field._serialize and Field._deserialize. pyproject.toml bounds these
libraries' versions; an upgrade within the bounds that removes or reshapes a hook fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import flask_jwt_extended.utils
import pytest
from flask import Flask
from flask_jwt_extended import JWTManager, create_access_token, decode_token
from flask_jwt_extended.config import config as jwt_config
from flask_limiter import Limiter
from flask_sqlalchemy import SQLAlchemy
from marshmallow import fields

from blogapi import create_app
from blogapi.db.engine import Database, db
from blogapi.extensions import (
    VERIFIED_TOKENS_KEY,
    CachingJWTManager,
    DecoratedLimitsOnly,
    VerifiedTokens,
    limiter,
)
from blogapi.web.fields import StrictBoolean, TrimmedString, UTCDateTimeField

Parameters = list[tuple[str, Any, Any]]

# (library class, our subclass, hook name)
OVERRIDES = [
    (Limiter, DecoratedLimitsOnly, "_check_request_limit"),
    (JWTManager, CachingJWTManager, "_decode_jwt_from_config"),
    (SQLAlchemy, Database, "_teardown_session"),
    (fields.DateTime, UTCDateTimeField, "_serialize"),
    (fields.DateTime, UTCDateTimeField, "_deserialize"),
    (fields.String, TrimmedString, "_deserialize"),
    (fields.Boolean, StrictBoolean, "_deserialize"),
]


def parameters(function: Callable[..., Any]) -> Parameters:
    """Each parameter's name, kind and default: what a caller may pass, and how."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.fixture(scope="module")
def app() -> Flask:
    """An app bound to the extensions, as the API runs them (rate limits on: a disabled
    limiter binds no hook)."""
    return create_app("testing", RATELIMIT_ENABLED=True)


@pytest.mark.parametrize(
    ("library", "ours", "name"), OVERRIDES, ids=[f"{o[0].__name__}.{o[2]}" for o in OVERRIDES]
)
def test_overridden_hook_exists_with_our_parameters(
    library: type[Any], ours: type[Any], name: str
) -> None:
    hook = inspect.getattr_static(library, name, None)
    assert inspect.isfunction(hook), f"{library.__module__}.{library.__name__}.{name} is gone"
    assert parameters(hook) == parameters(getattr(ours, name)), (
        f"{library.__name__}.{name} now takes {inspect.signature(hook)}; "
        f"our override takes {inspect.signature(getattr(ours, name))}"
    )


def test_limiter_checks_requests_through_the_hook(app: Flask) -> None:
    assert limiter._check_request_limit in app.before_request_funcs[None]


def test_limiter_attributes_we_read_exist(app: Flask) -> None:
    for name in ("default_limits", "application_limits"):
        assert isinstance(inspect.getattr_static(type(limiter.limit_manager), name), property)
        assert isinstance(getattr(limiter.limit_manager, name), list)
    assert isinstance(Limiter(key_func=lambda: "key")._meta_limits, list | tuple)
    assert not limiter._meta_limits  # no meta limits configured: the shortcut applies


def test_jwt_decoding_goes_through_the_hook(app: Flask) -> None:
    assert "_decode_jwt_from_config" in inspect.getsource(flask_jwt_extended.utils.decode_token)
    assert isinstance(inspect.getattr_static(type(jwt_config), "leeway"), property)
    with app.test_request_context():
        cache: VerifiedTokens = app.extensions[VERIFIED_TOKENS_KEY]
        token = create_access_token(identity="1", additional_claims={"ver": 1})
        assert cache.get(token) is None
        claims = decode_token(token)
        assert cache.get(token) == claims
        assert isinstance(jwt_config.leeway, int)


def test_sqlalchemy_ends_sessions_through_the_hook(app: Flask) -> None:
    hooks = [getattr(f, "__func__", None) for f in app.teardown_appcontext_funcs]
    assert Database._teardown_session in hooks
    assert inspect.getattr_static(db, "_teardown_session") is Database._teardown_session
