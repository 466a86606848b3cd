"""Configuration from the environment, and production refusing weak secrets."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

import config as settings
from blogapi import create_app

STRONG = "k" * 16 + "q7Zr9vX2mB4nL8pT6wY3sD5fH1jK0aQe"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment with the instance folder in a temporary directory."""
    for name in list(__import__("os").environ):
        if name.startswith(("JWT_", "BLOGAPI_", "RATELIMIT", "LOGIN_RATE")) or name in {
            "SECRET_KEY",
            "DATABASE_URL",
            "REGISTRATION_OPEN",
            "DEFAULT_ROLE",
            "CORS_ORIGINS",
            "MAX_CONTENT_LENGTH",
            "TRUSTED_PROXIES",
            "REDIS_URL",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(settings, "INSTANCE_DIR", tmp_path / "instance")
    return monkeypatch


def test_defaults_follow_the_contract(env):
    config = settings.load_config("development")
    assert timedelta(minutes=15) == config.JWT_ACCESS_TOKEN_EXPIRES
    assert timedelta(minutes=43200) == config.JWT_REFRESH_TOKEN_EXPIRES
    assert (config.JWT_ISSUER, config.JWT_AUDIENCE) == ("blogapi", "blogapi")
    assert config.REGISTRATION_OPEN is True and config.DEFAULT_ROLE == "author"
    assert config.RATELIMIT_ENABLED is True and config.LOGIN_RATE_LIMIT == "5 per minute"
    assert config.RATELIMIT_STORAGE_URI == "memory://"
    assert config.CORS_ORIGINS == [] and config.MAX_CONTENT_LENGTH == 1048576
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.SQLALCHEMY_DATABASE_URI.endswith("blogapi.db")


def test_every_variable_is_read(env):
    env.setenv("JWT_ACCESS_TOKEN_EXPIRES", "5")
    env.setenv("JWT_REFRESH_TOKEN_EXPIRES", "60")
    env.setenv("JWT_ISSUER", "me")
    env.setenv("JWT_AUDIENCE", "you")
    env.setenv("REGISTRATION_OPEN", "false")
    env.setenv("DEFAULT_ROLE", "contributor")
    env.setenv("RATELIMIT_ENABLED", "0")
    env.setenv("LOGIN_RATE_LIMIT", "2 per second")
    env.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    env.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    env.setenv("MAX_CONTENT_LENGTH", "2048")
    env.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/blog")
    config = settings.load_config("development")
    assert timedelta(minutes=5) == config.JWT_ACCESS_TOKEN_EXPIRES
    assert timedelta(minutes=60) == config.JWT_REFRESH_TOKEN_EXPIRES
    assert (config.JWT_DECODE_ISSUER, config.JWT_DECODE_AUDIENCE) == ("me", "you")
    assert config.REGISTRATION_OPEN is False and config.DEFAULT_ROLE == "contributor"
    assert config.RATELIMIT_ENABLED is False and config.LOGIN_RATE_LIMIT == "2 per second"
    assert config.RATELIMIT_STORAGE_URI.startswith("redis://")
    assert config.CORS_ORIGINS == ["https://a.example", "https://b.example"]
    assert config.MAX_CONTENT_LENGTH == 2048
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@127.0.0.1/blog"


def test_rate_limits_go_to_the_deployments_redis_unless_told_otherwise(env):
    env.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    assert settings.load_config("development").RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/2"
    env.setenv("RATELIMIT_STORAGE_URI", "redis://limits.internal:6379/0")
    assert settings.load_config("development").RATELIMIT_STORAGE_URI.startswith("redis://limits")


def test_every_variable_config_reads_is_documented_in_env_example():
    root = Path(settings.__file__).resolve().parent
    source = (root / "config.py").read_text()
    read = set(re.findall(r'(?:env_\w+|environ\.get)\("([A-Z][A-Z0-9_]+)"', source))
    documented = set(
        re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (root / ".env.example").read_text(), re.M)
    )
    assert len(read) > 20
    assert read - {"TEST_DATABASE_URL"} <= documented, read - documented


def test_the_environment_name_picks_the_config(env):
    env.setenv("BLOGAPI_ENV", "testing")
    assert settings.load_config().TESTING is True
    env.setenv("BLOGAPI_ENV", "staging")
    with pytest.raises(settings.ConfigError, match="BLOGAPI_ENV"):
        settings.load_config()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("JWT_ACCESS_TOKEN_EXPIRES", "fifteen"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "0"),
        ("REGISTRATION_OPEN", "maybe"),
        ("DEFAULT_ROLE", "overlord"),
        ("MAX_CONTENT_LENGTH", "-1"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env, name, value):
    env.setenv(name, value)
    with pytest.raises(settings.ConfigError, match=name):
        settings.load_config("development")


def test_development_generates_secrets_once(env):
    first = settings.load_config("development")
    second = settings.load_config("development")
    assert len(first.SECRET_KEY) >= 32 and len(first.JWT_SECRET_KEY) >= 32
    assert first.SECRET_KEY != first.JWT_SECRET_KEY
    assert (first.SECRET_KEY, first.JWT_SECRET_KEY) == (second.SECRET_KEY, second.JWT_SECRET_KEY)
    secret_file = settings.INSTANCE_DIR / "jwt_secret_key.secret"
    assert secret_file.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("secret", "jwt_secret", "named"),
    [
        ("", STRONG, "SECRET_KEY"),
        (STRONG, "", "JWT_SECRET_KEY"),
        ("short-but-random-Zx81", STRONG, "SECRET_KEY"),
        (STRONG, "super-secret", "JWT_SECRET_KEY"),
        (STRONG, "changeme", "JWT_SECRET_KEY"),
        ("you-will-never-guess", STRONG, "SECRET_KEY"),
    ],
)
def test_production_refuses_weak_secrets(env, secret, jwt_secret, named):
    env.setenv("SECRET_KEY", secret)
    env.setenv("JWT_SECRET_KEY", jwt_secret)
    with pytest.raises(settings.ConfigError, match=f"^{named}"):
        settings.load_config("production")


def test_production_starts_with_strong_secrets(env):
    env.setenv("SECRET_KEY", STRONG)
    env.setenv("JWT_SECRET_KEY", STRONG[::-1])
    config = settings.load_config("production")
    assert config.SECRET_KEY == STRONG and not config.TESTING
    assert not (settings.INSTANCE_DIR / "secret_key.secret").exists()


def test_the_factory_exits_with_one_line_on_a_bad_environment(env, capsys):
    env.setenv("JWT_SECRET_KEY", "secret")
    env.setenv("SECRET_KEY", STRONG)
    with pytest.raises(SystemExit) as exit_info:
        create_app("production")
    assert exit_info.value.code == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "JWT_SECRET_KEY" in err


def test_the_factory_takes_its_config_and_overrides():
    config = settings.TestingConfig()
    app = create_app(config, MAX_CONTENT_LENGTH=10)
    assert app.testing and app.config["MAX_CONTENT_LENGTH"] == 10
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=15)
