"""Whether the deployment's Redis answers: the one REDIS_URL names, and the rate limits' store
when it is a Redis of its own. The redis package is imported only once one is configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Seconds to connect, and to hear the answer: a dead Redis must not hold a worker.
TIMEOUT = 1.0
# Flask-Limiter's Redis storages that are one server, as redis-py spells their URLs.
LIMITS_SCHEMES = {"redis": "redis", "rediss": "rediss", "redis+unix": "unix"}


def configured_redis(config: Mapping[str, Any]) -> dict[str, str]:
    """The Redis URLs the configuration uses, by the setting that names each one."""
    found: dict[str, str] = {}
    if config.get("REDIS_URL"):
        found["REDIS_URL"] = str(config["REDIS_URL"])
    if config.get("RATELIMIT_ENABLED", True):
        scheme, sep, rest = str(config.get("RATELIMIT_STORAGE_URI") or "").partition("://")
        if sep and scheme in LIMITS_SCHEMES:
            url = f"{LIMITS_SCHEMES[scheme]}://{rest}"
            if url not in found.values():
                found["RATELIMIT_STORAGE_URI"] = url
    return found


def ping(url: str) -> str | None:
    """None when the Redis at `url` answers PING in time, else why not (never its address or
    credentials)."""
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        return "the redis package is not installed (pip install 'blogapi[redis]')"
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=TIMEOUT,
            socket_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 0),  # redis-py retries by default: one try, one timeout
        )
    except ValueError:
        return "its URL is not one redis-py reads"
    try:
        client.ping()
    except redis.TimeoutError:
        return f"no answer to PING within {TIMEOUT:g} s"
    except (redis.RedisError, OSError) as error:
        return f"no answer to PING ({type(error).__name__})"
    finally:
        client.close()
    return None
