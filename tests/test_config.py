"""Configuration from the environment, and production refusing weak secrets."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import timedelta
from pathlib import Path

import jwt as pyjwt
import pytest
from werkzeug.test import TestResponse

import config as settings
from blogapi import create_app
from blogapi.extensions import db

STRONG = "k" * 16 + "q7Zr9vX2mB4nL8pT6wY3sD5fH1jK0aQe"
SITE = "https://blog.example"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment with the instance folder in a temporary directory."""
    for name in list(__import__("os").environ):
        if name.startswith(
            ("JWT_", "BLOGAPI_", "RATELIMIT", "LOGIN_RATE", "MEDIA_", "MAIL_")
        ) or name in {
            "SECRET_KEY",
            "DATABASE_URL",
            "REGISTRATION_OPEN",
            "DEFAULT_ROLE",
            "CORS_ORIGINS",
            "MAX_CONTENT_LENGTH",
            "TRUSTED_PROXIES",
            "REDIS_URL",
            "SITE_URL",
            "TRUSTED_HOSTS",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BLOGAPI_INSTANCE_DIR", str(tmp_path / "instance"))
    return monkeypatch


@pytest.fixture
def production(env):
    """The environment of a production deployment that sets only what it must."""
    env.setenv("SECRET_KEY", STRONG)
    env.setenv("JWT_SECRET_KEY", STRONG[::-1])
    env.setenv("SITE_URL", SITE)
    env.setenv("MAIL_URL", "none")
    return env


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
    assert config.MEDIA_STORAGE == "filesystem"
    assert Path(config.MEDIA_ROOT) == config.INSTANCE_DIR / "media"
    assert (config.MEDIA_MAX_BYTES, config.MEDIA_MAX_PIXELS) == (10 * 1024 * 1024, 40_000_000)
    assert config.MEDIA_WIDTHS == (320, 768, 1536)
    assert config.MEDIA_PUBLIC_URL == ""


def test_the_media_settings_are_read(env):
    env.setenv("MEDIA_STORAGE", "S3")
    env.setenv("MEDIA_S3_BUCKET", "blog-media")
    env.setenv("MEDIA_S3_ENDPOINT_URL", "http://127.0.0.1:9000/")
    env.setenv("MEDIA_S3_REGION", "eu-west-1")
    env.setenv("MEDIA_PUBLIC_URL", "https://cdn.example.com/media/")
    env.setenv("MEDIA_MAX_BYTES", "1000")
    env.setenv("MEDIA_MAX_PIXELS", "2000")
    env.setenv("MEDIA_WIDTHS", " 800, 200,800 ")
    config = settings.load_config("development")
    assert (config.MEDIA_STORAGE, config.MEDIA_S3_BUCKET) == ("s3", "blog-media")
    assert config.MEDIA_S3_ENDPOINT_URL == "http://127.0.0.1:9000"
    assert config.MEDIA_S3_REGION == "eu-west-1"
    assert config.MEDIA_PUBLIC_URL == "https://cdn.example.com/media"
    assert (config.MEDIA_MAX_BYTES, config.MEDIA_MAX_PIXELS) == (1000, 2000)
    assert config.MEDIA_WIDTHS == (200, 800)


@pytest.mark.parametrize(
    ("settings_given", "named"),
    [
        ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE"),
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_S3_BUCKET"),
        ({"MEDIA_WIDTHS": "320,wide"}, "MEDIA_WIDTHS"),
        ({"MEDIA_WIDTHS": "0"}, "MEDIA_WIDTHS"),
        ({"MEDIA_PUBLIC_URL": "cdn.example.com"}, "MEDIA_PUBLIC_URL"),
        ({"MEDIA_S3_ENDPOINT_URL": "ftp://x"}, "MEDIA_S3_ENDPOINT_URL"),
        ({"MEDIA_MAX_BYTES": "0"}, "MEDIA_MAX_BYTES"),
        ({"MEDIA_MAX_PIXELS": "lots"}, "MEDIA_MAX_PIXELS"),
    ],
)
def test_bad_media_settings_are_refused_naming_the_variable(env, settings_given, named):
    for name, value in settings_given.items():
        env.setenv(name, value)
    with pytest.raises(settings.ConfigError, match=named):
        settings.load_config("development")


def test_traces_are_off_until_a_collector_is_named(env):
    env.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    env.delenv("OTEL_SERVICE_NAME", raising=False)
    config = settings.load_config("development")
    assert (config.OTEL_EXPORTER_OTLP_ENDPOINT, config.OTEL_SERVICE_NAME) == ("", "blogapi")
    env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.internal:4318/")
    env.setenv("OTEL_SERVICE_NAME", "blog-eu-1")
    config = settings.load_config("development")
    assert config.OTEL_EXPORTER_OTLP_ENDPOINT == "http://collector.internal:4318"
    assert config.OTEL_SERVICE_NAME == "blog-eu-1"
    assert settings.TestingConfig().OTEL_EXPORTER_OTLP_ENDPOINT == ""  # the suite never sends
    env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector.internal:4318")
    with pytest.raises(settings.ConfigError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        settings.load_config("development")


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
    secret_file = settings.instance_dir() / "jwt_secret_key.secret"
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


@pytest.mark.parametrize(
    ("secret", "jwt_secret", "named"),
    [
        ("a" * 32, STRONG, "SECRET_KEY"),
        (STRONG, "ab" * 16, "JWT_SECRET_KEY"),
        ("changeme" * 4, STRONG, "SECRET_KEY"),
        (STRONG, "Password1" * 4, "JWT_SECRET_KEY"),
        ("0" * 30 + "12345", STRONG, "SECRET_KEY"),  # no repeated unit, six distinct characters
        (STRONG, "abcabcabcabcabcabcabcabcabcabcabcX", "JWT_SECRET_KEY"),
    ],
    ids=["a*32", "ab*16", "changeme*4", "Password1*4", "six-distinct", "four-distinct"],
)
def test_production_refuses_patterned_secrets(env, secret, jwt_secret, named):
    env.setenv("SECRET_KEY", secret)
    env.setenv("JWT_SECRET_KEY", jwt_secret)
    with pytest.raises(settings.ConfigError, match=f"^{named} "):
        settings.load_config("production")


@pytest.mark.parametrize("shared", [STRONG, secrets.token_urlsafe(48)], ids=["typed", "random"])
def test_production_refuses_one_value_for_both_secrets(env, shared):
    env.setenv("SECRET_KEY", shared)
    env.setenv("JWT_SECRET_KEY", shared)
    with pytest.raises(settings.ConfigError, match=r"^JWT_SECRET_KEY is the same as SECRET_KEY"):
        settings.load_config("production")


GENERATORS = {
    "token_urlsafe(48)": lambda: secrets.token_urlsafe(48),
    "token_urlsafe(32)": lambda: secrets.token_urlsafe(32),
    "token_hex(32)": lambda: secrets.token_hex(32),
    "openssl rand -hex 16": lambda: secrets.token_hex(16),
    "openssl rand -base64 32": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
}


@pytest.mark.parametrize("generator", GENERATORS)
def test_generated_secrets_pass_every_check(generator):
    for _ in range(500):
        settings.check_secret("SECRET_KEY", GENERATORS[generator]())


def test_development_secrets_would_pass_in_production(env):
    config = settings.load_config("development")
    settings.check_secret("SECRET_KEY", config.SECRET_KEY)
    settings.check_secret("JWT_SECRET_KEY", config.JWT_SECRET_KEY)
    settings.check_secrets_differ(config.SECRET_KEY, config.JWT_SECRET_KEY)


def test_production_starts_with_strong_secrets(production):
    config = settings.load_config("production")
    assert config.SECRET_KEY == STRONG and not config.TESTING
    assert not (settings.instance_dir() / "secret_key.secret").exists()


def test_production_refuses_to_start_without_site_url(production):
    production.delenv("SITE_URL")
    with pytest.raises(settings.ConfigError, match=r"^SITE_URL is not set"):
        settings.load_config("production")


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("https://blog.example", "https://blog.example"),
        ("https://Blog.Example/", "https://blog.example"),
        ("http://127.0.0.1:8000//", "http://127.0.0.1:8000"),
        ("https://example.com/blog/", "https://example.com/blog"),
    ],
)
def test_site_url_is_kept_without_its_final_slash(env, value, kept):
    env.setenv("SITE_URL", value)
    config = settings.load_config("development")
    assert kept == config.SITE_URL


@pytest.mark.parametrize(
    "value",
    [
        "blog.example",
        "/blog",
        "ftp://blog.example",
        "https://",
        "https://blog.example/?page=1",
        "https://blog.example/#top",
        "https://blog.example?",
        "https://admin:hunter2@blog.example",
        "https://blog example",
        "https://blog.example:99999",
        "https://blog.example/a b",
        "https://blog.example/<script>",
    ],
)
def test_a_site_url_that_is_not_a_plain_absolute_url_is_refused(env, value):
    env.setenv("SITE_URL", value)
    with pytest.raises(settings.ConfigError, match=r"^SITE_URL"):
        settings.load_config("development")


def test_production_trusts_only_site_urls_host_unless_told(production):
    assert settings.load_config("production").TRUSTED_HOSTS == ["blog.example"]
    production.setenv("TRUSTED_HOSTS", "blog.example, 10.0.0.5")
    assert settings.load_config("production").TRUSTED_HOSTS == ["blog.example", "10.0.0.5"]
    production.setenv("TRUSTED_HOSTS", "*")
    assert settings.load_config("production").TRUSTED_HOSTS is None


def test_trusted_hosts_must_let_site_urls_host_in(production):
    production.setenv("TRUSTED_HOSTS", "www.blog.example")
    with pytest.raises(settings.ConfigError, match=r"^TRUSTED_HOSTS must include"):
        settings.load_config("production")
    production.setenv("TRUSTED_HOSTS", "blog.example,*")
    with pytest.raises(settings.ConfigError, match=r"^TRUSTED_HOSTS is either \* alone"):
        settings.load_config("production")
    production.setenv("TRUSTED_HOSTS", ".blog.example")  # a leading dot: any subdomain too
    assert settings.load_config("production").TRUSTED_HOSTS == [".blog.example"]


def test_development_trusts_any_host_and_has_no_site_url(env):
    config = settings.load_config("development")
    assert (config.SITE_URL, config.TRUSTED_HOSTS) == ("", None)


def test_production_closes_registration_and_gives_contributor(production):
    config = settings.load_config("production")
    assert (config.REGISTRATION_OPEN, config.DEFAULT_ROLE) == (False, "contributor")
    production.setenv("REGISTRATION_OPEN", "true")
    production.setenv("DEFAULT_ROLE", "author")
    config = settings.load_config("production")
    assert (config.REGISTRATION_OPEN, config.DEFAULT_ROLE) == (True, "author")


def register_on_production(account: dict[str, str]) -> TestResponse:
    """POST /auth/register to the app `create_app("production")` builds, on a new database."""
    app = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context():
        db.create_all()
    return app.test_client().post("/api/v1/auth/register", base_url=SITE, json=account)


ACCOUNT = {"username": "stranger", "email": "s@example.com", "password": "analytical engine"}


def test_a_stranger_cannot_register_on_a_production_site_by_default(production):
    refused = register_on_production(ACCOUNT)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("default_role", "role"), [(None, "contributor"), ("author", "author")])
def test_opened_production_registration_gives_contributor_unless_told(
    production, default_role, role
):
    production.setenv("REGISTRATION_OPEN", "true")
    if default_role:
        production.setenv("DEFAULT_ROLE", default_role)
    created = register_on_production(ACCOUNT)
    assert created.status_code == 201 and created.get_json()["role"] == role


def test_the_factory_exits_with_one_line_on_a_bad_environment(production, capsys):
    production.setenv("JWT_SECRET_KEY", "secret")
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


HOSTILE_DOTENV = {
    "BLOGAPI_ENV": "production",
    "TEST_DATABASE_URL": "sqlite:////nonexistent/hostile.db",
    "DEFAULT_ROLE": "admin",
    "REGISTRATION_OPEN": "false",
    "JWT_ACCESS_TOKEN_EXPIRES": "1",
    "JWT_ISSUER": "hostile",
}


@pytest.fixture
def hostile_dotenv(env, tmp_path):
    """A developer's `.env` that would change every result it reached, put where config looks."""
    path = tmp_path / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in HOSTILE_DOTENV.items()))
    env.setattr(settings, "DOTENV_PATH", path)
    for name in HOSTILE_DOTENV:  # reading .env writes os.environ: have the fixture restore it
        env.setenv(name, "")
        env.delenv(name)
    return path


def test_the_suite_never_reads_a_developers_dotenv(hostile_dotenv):
    assert __import__("os").environ.get("FLASK_SKIP_DOTENV") == "1"  # conftest sets it
    testing = settings.TestingConfig()
    assert testing.SQLALCHEMY_DATABASE_URI == "sqlite://" and testing.REGISTRATION_OPEN is True
    development = settings.load_config("development")
    assert (development.DEFAULT_ROLE, development.JWT_ISSUER) == ("author", "blogapi")
    assert timedelta(minutes=15) == development.JWT_ACCESS_TOKEN_EXPIRES


def test_a_server_reads_dotenv_where_the_environment_says_nothing(hostile_dotenv, env):
    env.delenv("FLASK_SKIP_DOTENV", raising=False)
    env.setenv("JWT_ISSUER", "from-the-environment")
    env.setenv("SECRET_KEY", STRONG)
    env.setenv("JWT_SECRET_KEY", STRONG[::-1])
    env.setenv("SITE_URL", SITE)
    env.setenv("MAIL_URL", "none")
    config = settings.load_config()  # BLOGAPI_ENV comes from .env too
    assert (config.ENV_NAME, config.DEFAULT_ROLE, config.REGISTRATION_OPEN) == (
        "production",
        "admin",
        False,
    )
    assert config.JWT_ISSUER == "from-the-environment"


def test_tokens_carry_and_check_the_configured_issuer_and_audience(env):
    env.setenv("JWT_ISSUER", "https://blog.example")
    env.setenv("JWT_AUDIENCE", "blog-clients")
    app = create_app(settings.TestingConfig())
    with app.app_context():
        db.create_all()
    client = app.test_client()
    account = {"username": "ada", "email": "ada@example.com", "password": "analytical engine"}
    assert client.post("/api/v1/auth/register", json=account).status_code == 201
    credentials = {"username": "ada", "password": account["password"]}
    login = client.post("/api/v1/auth/login", json=credentials).get_json()
    claims = pyjwt.decode(login["access_token"], options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == ("https://blog.example", "blog-clients")
    key = app.config["JWT_SECRET_KEY"]
    for forged in ({"iss": "https://other.example"}, {"aud": "someone-else"}):
        token = pyjwt.encode({**claims, **forged}, key, algorithm="HS256")
        response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, forged
    honest = pyjwt.encode(claims, key, algorithm="HS256")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {honest}"})
    assert me.status_code == 200


def test_the_key_ring_alone_sets_the_token_algorithms():
    config = settings.TestingConfig()
    assert not hasattr(config, "JWT_ALGORITHM") and not hasattr(config, "JWT_DECODE_ALGORITHMS")
    app = create_app(config)
    assert (app.config["JWT_ALGORITHM"], app.config["JWT_DECODE_ALGORITHMS"]) == (
        "HS256",
        ["HS256"],
    )


def test_development_changes_nothing_the_base_config_sets():
    assert set(vars(settings.DevelopmentConfig)) <= {"__module__", "__doc__", "__qualname__"}
