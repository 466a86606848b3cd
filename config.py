"""Settings for blogapi, read from the environment (and `.env` when present).

`.env` is read by load_config(), the path the server and manage.py take, never at import: a
Config built directly (the test suite's TestingConfig) sees only the process environment, and
FLASK_SKIP_DOTENV=1 (Flask's own switch, which the test suite sets) turns `.env` off entirely.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import formataddr, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from dotenv import load_dotenv
from flask.helpers import get_load_dotenv
from werkzeug.sansio.utils import host_is_trusted

BASE_DIR = Path(__file__).resolve().parent
DOTENV_PATH = BASE_DIR / ".env"

# Values copied from tutorials and READMEs; a production secret must never be one of them.
WELL_KNOWN_SECRETS = frozenset(
    {
        "secret",
        "secret-key",
        "secret_key",
        "super-secret",
        "super-secret-key",
        "supersecret",
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "dev",
        "development",
        "test",
        "testing",
        "password",
        "jwt-secret",
        "jwt-secret-string",
        "jwt_secret_key",
        "you-will-never-guess",
        "my-secret",
        "mysecret",
        "your-secret-key",
        "your_secret_key",
        "please-change-me",
        "t0p s3cr3t",
        "top secret",
        "replace-me",
        "change-this-to-a-long-random-string",
    }
)
MIN_SECRET_BYTES = 32
# A secret with fewer distinct characters is a typed pattern, not a random value. Why not 16:
# `openssl rand -hex 16` draws 32 characters from 16, and misses at least 8 of them with a
# chance of about 4 in 100 million; at 16 it would be refused 9 times in 10.
MIN_SECRET_DISTINCT = 8
# The roles, in order of power (blogapi/security/roles.py says what each may do). They live
# here because DEFAULT_ROLE is checked against them, and config.py imports nothing of blogapi.
ROLES: tuple[str, ...] = ("contributor", "author", "editor", "admin")
# SEARCH_LANGUAGE: PostgreSQL's text search languages (`simple`: no stemming). SQLite stems
# English alone (FTS5's Porter tokenizer); other languages are folded but not stemmed there.
SEARCH_LANGUAGES: tuple[str, ...] = (
    "simple", "arabic", "armenian", "basque", "catalan", "danish", "dutch", "english",
    "finnish", "french", "german", "greek", "hindi", "hungarian", "indonesian", "irish",
    "italian", "lithuanian", "nepali", "norwegian", "portuguese", "romanian", "russian",
    "serbian", "spanish", "swedish", "tamil", "turkish", "yiddish",
)  # fmt: skip
# What RFC 3986 allows in a URL's path (percent-escapes included): SITE_URL's path goes
# into headers as it is written.
URL_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*")
MEDIA_STORAGES: tuple[str, ...] = ("filesystem", "s3")
# SITE_LANGUAGE: a BCP 47 tag (`en`, `pt-BR`, `zh-Hant`), written as the pages' `lang`.
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")
MAX_FEED_LENGTH = 100


class ConfigError(RuntimeError):
    """Raised when the environment cannot give a safe configuration."""


def env_str(name: str, default: str = "") -> str:
    """Read a string variable, stripped; empty means the default."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean variable written as true/false, 1/0, yes/no or on/off."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def retry_delays(text: str) -> tuple[float, ...]:
    """WEBHOOK_RETRY_DELAYS: comma-separated seconds, each positive, at most 30 of them."""
    try:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(
            f"WEBHOOK_RETRY_DELAYS must be comma-separated seconds, not {text!r}"
        ) from None
    if not 0 < len(delays) <= 30 or any(not 0 < d <= 7 * 86400 for d in delays):
        raise ConfigError(
            "WEBHOOK_RETRY_DELAYS must list 1 to 30 delays, each over 0 and at most a week"
        )
    return delays


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """Read a whole number variable no smaller than `minimum`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str) -> list[str]:
    """Read a comma-separated list variable."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def instance_dir() -> Path:
    """Where the default SQLite database and generated development secrets live."""
    return Path(env_str("BLOGAPI_INSTANCE_DIR") or BASE_DIR / "instance")


def read_dotenv() -> bool:
    """Fill unset variables from `.env` (the environment wins), unless FLASK_SKIP_DOTENV is set."""
    if not get_load_dotenv() or not DOTENV_PATH.is_file():
        return False
    return load_dotenv(DOTENV_PATH, override=False)


def dev_secret(folder: Path, name: str) -> str:
    """Return a secret generated once into the instance folder, so tokens survive restarts."""
    # Owner only: the folder holds these secrets and the default SQLite database (password
    # hashes). A folder that already exists keeps the mode its operator gave it.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{name.lower()}.secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def check_secret(name: str, value: str) -> None:
    """Refuse a missing, short, well-known or patterned secret, naming the variable."""
    if not value:
        raise ConfigError(f"{name} is not set; production needs a random secret of 32+ bytes")
    if value.strip().lower() in WELL_KNOWN_SECRETS:
        raise ConfigError(f"{name} is a well-known value; use a random secret of 32+ bytes")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} is shorter than {MIN_SECRET_BYTES} bytes")
    # A value is one unit repeated exactly when it occurs inside itself doubled, off the ends.
    if (value + value).find(value, 1) < len(value):
        raise ConfigError(f"{name} is one short unit repeated; use a random secret of 32+ bytes")
    if len(set(value.encode())) < MIN_SECRET_DISTINCT:
        raise ConfigError(
            f"{name} has fewer than {MIN_SECRET_DISTINCT} distinct characters; "
            "use a random secret of 32+ bytes"
        )


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
METRICS_ALLOW_DEFAULT = ["127.0.0.0/8", "::1"]


def log_format(value: str) -> str:
    """LOG_FORMAT: json (one object per line) or text."""
    if value.lower() not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be json or text, not {value!r}")
    return value.lower()


def log_level(value: str) -> str:
    """LOG_LEVEL: DEBUG, INFO, WARNING or ERROR."""
    if value.upper() not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return value.upper()


def networks(
    name: str, items: list[str]
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A list of addresses and CIDR networks."""
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in items)
    except ValueError as exc:
        raise ConfigError(f"{name} must list addresses or networks (CIDR): {exc}") from None


def metrics_token(value: str) -> str:
    """METRICS_TOKEN: empty (no token), or a secret long enough not to be guessed."""
    if value and len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"METRICS_TOKEN is shorter than {MIN_SECRET_BYTES} bytes")
    return value


def check_secrets_differ(secret_key: str, jwt_secret_key: str) -> None:
    """Refuse one value for both secrets: either one leaking must not give away the other."""
    if secret_key == jwt_secret_key:
        raise ConfigError("JWT_SECRET_KEY is the same as SECRET_KEY; give each its own value")


def site_url(value: str) -> str:
    """SITE_URL checked (an absolute http(s) URL, no query or fragment), without a final `/`."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"SITE_URL must be an absolute http(s) URL, not {value!r}")
    if "?" in value or "#" in value:
        raise ConfigError(f"SITE_URL must have no query or fragment, not {value!r}")
    if "@" in parts.netloc or not host_is_trusted(parts.netloc):
        raise ConfigError(f"SITE_URL must name a host (and port) only, not {parts.netloc!r}")
    if not URL_PATH.fullmatch(parts.path):
        raise ConfigError(f"SITE_URL's path holds characters a URL cannot: {parts.path!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def media_url(name: str, value: str) -> str:
    """An absolute http(s) URL setting (MEDIA_PUBLIC_URL, MEDIA_S3_ENDPOINT_URL,
    OTEL_EXPORTER_OTLP_ENDPOINT), without a final `/`; empty stays empty."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or "?" in value or "#" in value:
        raise ConfigError(f"{name} must be an absolute http(s) URL, not {value!r}")
    return value.rstrip("/")


def media_widths(raw: str) -> tuple[int, ...]:
    """MEDIA_WIDTHS: comma-separated pixel widths of the variants, each 1 to 10000."""
    widths = set()
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        if not item.isdigit() or not 1 <= int(item) <= 10_000:
            raise ConfigError(f"MEDIA_WIDTHS must be whole numbers from 1 to 10000, not {item!r}")
        widths.add(int(item))
    return tuple(sorted(widths))


def language_tag(value: str) -> str:
    """SITE_LANGUAGE checked as a BCP 47 language tag."""
    if not LANGUAGE_TAG.fullmatch(value):
        raise ConfigError(
            f"SITE_LANGUAGE must be a language tag such as en or pt-BR, not {value!r}"
        )
    return value


def sqlite_synchronous(value: str) -> str:
    """SQLITE_SYNCHRONOUS checked: NORMAL or FULL."""
    level = value.strip().upper()
    if level not in ("NORMAL", "FULL"):
        raise ConfigError(f"SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {value!r}")
    return level


def search_language(value: str) -> str:
    """SEARCH_LANGUAGE checked against the languages full-text search knows."""
    language = value.strip().lower()
    if language not in SEARCH_LANGUAGES:
        raise ConfigError(
            f"SEARCH_LANGUAGE must be one of {', '.join(SEARCH_LANGUAGES)}, not {value!r}"
        )
    return language


def trusted_hosts(names: list[str], site: str, *, default_to_site: bool) -> list[str] | None:
    """Flask's TRUSTED_HOSTS: None (any host) for `*`, or when empty unless `default_to_site`
    (then SITE_URL's host alone), else the names given, which must let SITE_URL's host in."""
    if not names and default_to_site and site:
        return [str(urlsplit(site).hostname)]
    if names in ([], ["*"]):
        return None
    if "*" in names:
        raise ConfigError("TRUSTED_HOSTS is either * alone or a list of host names")
    if site and not host_is_trusted(urlsplit(site).netloc, names):
        raise ConfigError(f"TRUSTED_HOSTS must include SITE_URL's host {urlsplit(site).hostname}")
    return names


@dataclass(frozen=True)
class MailServer:
    """Where MAIL_URL sends mail: smtps (TLS from the start) or smtp (STARTTLS or plain)."""

    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str = ""
    password: str = field(default="", repr=False)


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def parse_mail_url(value: str) -> MailServer:
    """MAIL_URL as `smtp://user:pass@host:587?starttls=true` or `smtps://user:pass@host:465`;
    the errors never repeat the URL, which may hold a password."""
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("MAIL_URL must be smtp://host…, smtps://host… or none")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("MAIL_URL has a port that is not a number from 1 to 65535") from None
    if parts.path not in ("", "/") or parts.fragment:
        raise ConfigError("MAIL_URL takes no path or fragment: smtp://user:pass@host:port")
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"starttls"} or len(query.get("starttls", [])) > 1:
        raise ConfigError("MAIL_URL knows one option, ?starttls=true or ?starttls=false")
    asked = query.get("starttls", [""])[0].lower()
    if asked not in ("", "true", "false"):
        raise ConfigError("MAIL_URL's starttls must be true or false")
    ssl = parts.scheme == "smtps"
    starttls = asked == "true" or (not asked and port == 587)
    if ssl and starttls:
        raise ConfigError("MAIL_URL: smtps:// is TLS already; starttls=true goes with smtp://")
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if username and not (ssl or starttls) and parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(
            "MAIL_URL would send its password unencrypted: use smtps:// or ?starttls=true"
        )
    default_port = 465 if ssl else 587 if starttls else 25
    return MailServer(parts.hostname, port or default_port, ssl, starttls, username, password)


def mail_url(value: str) -> str:
    """MAIL_URL checked: empty (development writes files), `none` (mail off), or a server."""
    if not value or value.lower() == "none":
        return value.lower()
    parse_mail_url(value)
    return value


def mail_from(value: str, site_title: str, site: str) -> str:
    """MAIL_FROM checked (one address, with or without a name), by default the blog's title
    at noreply@ the SITE_URL's host."""
    if not value:
        host = urlsplit(site).hostname if site else None
        return formataddr((" ".join(site_title.split()), f"noreply@{host or 'localhost'}"))
    address = parseaddr(value)[1]
    if any(ord(ch) < 32 for ch in value) or "@" not in address or address.startswith("@"):
        raise ConfigError("MAIL_FROM must be one address, e.g. Blog <noreply@blog.example.com>")
    return value


class Config:
    """Settings shared by every environment; subclasses adjust them."""

    ENV_NAME = "development"
    DEBUG = False
    TESTING = False
    log_format_default = "text"  # for a person at a terminal; production writes JSON
    # Self-registration when REGISTRATION_OPEN and DEFAULT_ROLE are not set (lower case, so
    # they stay out of app.config): open, as `author`, for the README's story.
    registration_open_default = True
    default_role_default = "author"
    # With TRUSTED_HOSTS unset: any Host (False), or SITE_URL's host alone (True).
    trust_site_host_only = False

    def __init__(self) -> None:
        self.INSTANCE_DIR = instance_dir()
        self.SQLALCHEMY_DATABASE_URI = env_str(
            "DATABASE_URL", f"sqlite:///{self.INSTANCE_DIR / 'blogapi.db'}"
        )
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        # PostgreSQL only (see extensions.Database): an unreachable server fails fast with a 503.
        self.DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
        self.DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", 0)
        # SQLite file only: how long a writer waits for another process's write lock.
        self.DATABASE_BUSY_TIMEOUT = env_int("DATABASE_BUSY_TIMEOUT", 10, minimum=1)
        # SQLite only: WAL mode, syncing at checkpoints (NORMAL) or at every commit (FULL).
        self.SQLITE_SYNCHRONOUS = sqlite_synchronous(env_str("SQLITE_SYNCHRONOUS", "NORMAL"))
        # Flask's secret, for what the site signs in browsers: nothing yet (the API sets no
        # cookies), the IndieAuth sign-in pages' CSRF tokens and session cookie next. Required
        # in production now, as the contract says, so turning those pages on needs no new secret.
        self.SECRET_KEY = env_str("SECRET_KEY")
        self.JWT_SECRET_KEY = env_str("JWT_SECRET_KEY")
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(
            minutes=env_int("JWT_ACCESS_TOKEN_EXPIRES", 15, minimum=1)
        )
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(
            minutes=env_int("JWT_REFRESH_TOKEN_EXPIRES", 43200, minimum=1)
        )
        self.JWT_ISSUER = env_str("JWT_ISSUER", "blogapi")
        self.JWT_AUDIENCE = env_str("JWT_AUDIENCE", "blogapi")
        self.JWT_ENCODE_ISSUER = self.JWT_ISSUER
        self.JWT_DECODE_ISSUER = self.JWT_ISSUER
        self.JWT_ENCODE_AUDIENCE = self.JWT_AUDIENCE
        self.JWT_DECODE_AUDIENCE = self.JWT_AUDIENCE
        # HS256 with JWT_SECRET_KEY unless a private key file is given: security/keys.py sets
        # JWT_ALGORITHM and JWT_DECODE_ALGORITHMS from the key ring (EdDSA, RS256), never here.
        self.JWT_PRIVATE_KEY_FILE = env_str("JWT_PRIVATE_KEY_FILE")
        self.JWT_PUBLIC_KEY_FILE = env_str("JWT_PUBLIC_KEY_FILE")
        # Old public keys that still verify (never sign) until their tokens have expired.
        self.JWT_RETIRED_PUBLIC_KEY_FILES = env_list("JWT_RETIRED_PUBLIC_KEY_FILES")
        self.JWT_DECODE_LEEWAY = 5  # seconds of clock skew forgiven on exp, nbf and iat
        self.JWT_TOKEN_LOCATION = ["headers"]
        self.JWT_COOKIE_CSRF_PROTECT = False  # tokens travel in headers only
        self.REGISTRATION_OPEN = env_bool("REGISTRATION_OPEN", self.registration_open_default)
        self.DEFAULT_ROLE = env_str("DEFAULT_ROLE", self.default_role_default)
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.LOGIN_RATE_LIMIT = env_str("LOGIN_RATE_LIMIT", "5 per minute")
        self.POST_WRITE_RATE_LIMIT = env_str("POST_WRITE_RATE_LIMIT", "60 per minute")
        # Accounts by email (blogapi/accounts/mail_flows.py): how long a mailed link works,
        # whether login needs a verified address, and how often one may ask for a reset link.
        self.PASSWORD_RESET_EXPIRES = timedelta(
            minutes=env_int("PASSWORD_RESET_EXPIRES", 30, minimum=1)
        )
        self.EMAIL_VERIFY_EXPIRES = timedelta(hours=env_int("EMAIL_VERIFY_EXPIRES", 48, minimum=1))
        self.REQUIRE_VERIFIED_EMAIL = env_bool("REQUIRE_VERIFIED_EMAIL", False)
        self.FORGOT_RATE_LIMIT = env_str("FORGOT_RATE_LIMIT", "3 per hour")
        # A deployment that names its Redis once (REDIS_URL) shares its limits there too.
        self.REDIS_URL = env_str("REDIS_URL")
        self.RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", self.REDIS_URL or "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.RATELIMIT_KEY_PREFIX = "blogapi"
        # Redis down: count in this process's memory meanwhile, and never fail a request over it.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_SWALLOW_ERRORS = True
        self.CORS_ORIGINS = env_list("CORS_ORIGINS")
        self.SEARCH_LANGUAGE = search_language(env_str("SEARCH_LANGUAGE", "english"))
        self.REVISIONS_KEEP = env_int("REVISIONS_KEEP", 100)
        self.TRASH_DAYS = env_int("TRASH_DAYS", 30)
        self.MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1048576, minimum=1)
        self.MEDIA_STORAGE = env_str("MEDIA_STORAGE", "filesystem").lower()
        if self.MEDIA_STORAGE not in MEDIA_STORAGES:
            raise ConfigError(f"MEDIA_STORAGE must be filesystem or s3, not {self.MEDIA_STORAGE!r}")
        self.MEDIA_ROOT = env_str("MEDIA_ROOT", str(self.INSTANCE_DIR / "media"))
        self.MEDIA_S3_BUCKET = env_str("MEDIA_S3_BUCKET")
        self.MEDIA_S3_ENDPOINT_URL = media_url(
            "MEDIA_S3_ENDPOINT_URL", env_str("MEDIA_S3_ENDPOINT_URL")
        )
        self.MEDIA_S3_REGION = env_str("MEDIA_S3_REGION")
        if self.MEDIA_STORAGE == "s3" and not self.MEDIA_S3_BUCKET:
            raise ConfigError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET, the bucket to store in")
        self.MEDIA_PUBLIC_URL = media_url("MEDIA_PUBLIC_URL", env_str("MEDIA_PUBLIC_URL"))
        self.MEDIA_MAX_BYTES = env_int("MEDIA_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
        self.MEDIA_MAX_PIXELS = env_int("MEDIA_MAX_PIXELS", 40_000_000, minimum=1)
        self.MEDIA_WIDTHS = media_widths(env_str("MEDIA_WIDTHS", "320,768,1536"))
        self.MAX_URL_LENGTH = env_int("MAX_URL_LENGTH", 4096, minimum=1)
        self.TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
        # The blog's public address: every absolute URL the app writes starts with it, never
        # with the client's Host header (blogapi/web/urls.py). Required in production.
        self.SITE_URL = site_url(env_str("SITE_URL"))
        # Flask's own Host check: any other Host is a 400 problem before routing.
        self.TRUSTED_HOSTS = trusted_hosts(
            env_list("TRUSTED_HOSTS"), self.SITE_URL, default_to_site=self.trust_site_host_only
        )
        self.HSTS_SECONDS = env_int("HSTS_SECONDS", 0)
        # The public face (blogapi/site/): the blog's name, its reader pages, its feeds.
        self.SITE_TITLE = env_str("SITE_TITLE", "blogapi")
        self.SITE_DESCRIPTION = env_str("SITE_DESCRIPTION")
        self.SITE_LANGUAGE = language_tag(env_str("SITE_LANGUAGE", "en"))
        # false: headless, the HTML pages answer 404; feeds, sitemap and /media stay.
        self.PUBLIC_SITE = env_bool("PUBLIC_SITE", True)
        self.FEED_LENGTH = env_int("FEED_LENGTH", 20, minimum=1)
        if self.FEED_LENGTH > MAX_FEED_LENGTH:
            raise ConfigError(
                f"FEED_LENGTH must be at most {MAX_FEED_LENGTH}, not {self.FEED_LENGTH}"
            )
        # Outbound fetches (webhook targets, IndieAuth client pages) to private and loopback
        # addresses: for tests and closed networks only.
        self.WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
        # A webhook whose every attempt has failed this long is turned off.
        self.WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 3, minimum=1)
        # Seconds before each retry (jittered by up to a fifth): about a day in all.
        self.WEBHOOK_RETRY_DELAYS = retry_delays(
            env_str("WEBHOOK_RETRY_DELAYS", "5,300,1800,7200,18000,36000")
        )
        # The job queue (webhooks/queue.py) lives in REDIS_URL when set, else in this file.
        self.QUEUE_FILE = str(self.INSTANCE_DIR / "queue.db")
        # What an operator sees (DEPLOY.md, "Watching it run"): log lines, the access log,
        # and /metrics, answered only to METRICS_ALLOW addresses or a bearer METRICS_TOKEN.
        self.LOG_FORMAT = log_format(env_str("LOG_FORMAT", self.log_format_default))
        self.LOG_LEVEL = log_level(env_str("LOG_LEVEL", "INFO"))
        self.ACCESS_LOG = env_bool("ACCESS_LOG", True)
        self.METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
        self.METRICS_ALLOW = networks(
            "METRICS_ALLOW", env_list("METRICS_ALLOW") or METRICS_ALLOW_DEFAULT
        )
        self.METRICS_TOKEN = metrics_token(env_str("METRICS_TOKEN"))
        # GET /health/ready answers 503 while more jobs (webhooks, mail) than this are due.
        self.READY_MAX_BACKLOG = env_int("READY_MAX_BACKLOG", 1000, minimum=1)
        self.PASSWORD_HASH_PROFILE = "strong"
        # Traces (blogapi/observability/tracing.py), sent over OTLP/HTTP to this collector
        # when set (the `otel` extra); the exporter reads the other OTEL_* variables itself.
        self.OTEL_EXPORTER_OTLP_ENDPOINT = media_url(
            "OTEL_EXPORTER_OTLP_ENDPOINT", env_str("OTEL_EXPORTER_OTLP_ENDPOINT")
        )
        self.OTEL_SERVICE_NAME = env_str("OTEL_SERVICE_NAME", "blogapi")
        # Mail (blogapi/mail): an SMTP server, `none` (off), or unset: files in MAIL_DIR.
        self.MAIL_URL = mail_url(env_str("MAIL_URL"))
        self.MAIL_FROM = mail_from(env_str("MAIL_FROM"), self.SITE_TITLE, self.SITE_URL)
        self.MAIL_TIMEOUT = env_int("MAIL_TIMEOUT", 10, minimum=1)
        self.MAIL_DIR = str(self.INSTANCE_DIR / "mail")

    def check_role(self) -> None:
        """Refuse a DEFAULT_ROLE that is not one of the roles."""
        if self.DEFAULT_ROLE not in ROLES:
            raise ConfigError(f"DEFAULT_ROLE must be one of {', '.join(ROLES)}")

    def finalize(self) -> None:
        """Fill in or check what depends on the environment kind."""
        self.check_role()
        self.SECRET_KEY = self.SECRET_KEY or dev_secret(self.INSTANCE_DIR, "SECRET_KEY")
        if not self.JWT_SECRET_KEY:
            self.JWT_SECRET_KEY = dev_secret(self.INSTANCE_DIR, "JWT_SECRET_KEY")


class DevelopmentConfig(Config):
    """Local development: the defaults (SQLite in the instance folder, generated secrets)."""


class TestingConfig(Config):
    """The test suite: cheap password hashing, no rate limits unless a test asks."""

    ENV_NAME = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = env_str("TEST_DATABASE_URL", "sqlite://")
        self.SECRET_KEY = "testing-secret-key-that-is-long-enough-0123456789"
        self.JWT_SECRET_KEY = "testing-jwt-secret-key-that-is-long-enough-0123456789"
        self.RATELIMIT_ENABLED = False
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.PASSWORD_HASH_PROFILE = "fast"
        self.ACCESS_LOG = env_bool("ACCESS_LOG", False)  # a test that reads it turns it on
        # A developer's collector never sees the suite: tests trace through trace_into().
        self.OTEL_EXPORTER_OTLP_ENDPOINT = ""

    def finalize(self) -> None:
        """Testing keeps its fixed secrets and needs nothing from the instance folder."""
        self.check_role()


class ProductionConfig(Config):
    """Production: strong secrets and SITE_URL from the environment; registration closed."""

    ENV_NAME = "production"
    log_format_default = "json"
    # A public blog must not let strangers publish: registration is closed, and opening it
    # gives drafts only (an editor publishes them) unless DEFAULT_ROLE says otherwise.
    registration_open_default = False
    default_role_default = "contributor"
    # One public name: any other Host is a misdirected request or someone's trick.
    trust_site_host_only = True

    def finalize(self) -> None:
        """Refuse to start with weak or missing secrets or without SITE_URL."""
        check_secret("SECRET_KEY", self.SECRET_KEY)
        check_secret("JWT_SECRET_KEY", self.JWT_SECRET_KEY)
        check_secrets_differ(self.SECRET_KEY, self.JWT_SECRET_KEY)
        if not self.SITE_URL:
            raise ConfigError(
                "SITE_URL is not set; production needs the blog's public address, "
                "e.g. https://blog.example.com"
            )
        if not self.MAIL_URL:
            raise ConfigError(
                "MAIL_URL is not set; production needs an SMTP server, e.g. "
                "smtp://user:pass@smtp.example.com:587?starttls=true (or MAIL_URL=none: no mail)"
            )
        super().finalize()


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the Config for `name` (default: BLOGAPI_ENV) from the environment and `.env`."""
    read_dotenv()
    name = (name or env_str("BLOGAPI_ENV", "development")).lower()
    if name not in CONFIGS:
        raise ConfigError(f"BLOGAPI_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    config = CONFIGS[name]()
    config.finalize()
    return config
