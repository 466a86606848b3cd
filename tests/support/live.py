"""blogapi under gunicorn in production mode, as clients meet it over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from devtools.live import OPEN_REGISTRATION, LiveServer, fresh_database_url, migrate, production_env
from tests.support.accounts import PASSWORD, bearer

TIMEOUT = 60


@contextmanager
def production_server(workdir: Path, **settings: str) -> Iterator[LiveServer]:
    """One production instance (two workers) on a fresh, migrated database in `workdir`, with
    open registration and no rate limits unless `settings` say otherwise."""
    env = production_env(
        fresh_database_url(workdir),
        **{"RATELIMIT_ENABLED": "false", **OPEN_REGISTRATION, **settings},
    )
    migrate(env)
    with LiveServer(env, log_path=workdir / "gunicorn.log") as live:
        yield live


def sign_up_over_http(api: str, username: str) -> dict[str, str]:
    """Register (open registration makes authors) and log in; the Authorization header."""
    registered = requests.post(
        f"{api}/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=TIMEOUT,
    )
    assert registered.status_code == 201, registered.text
    pair = requests.post(
        f"{api}/auth/login", json={"username": username, "password": PASSWORD}, timeout=TIMEOUT
    )
    assert pair.status_code == 200, pair.text
    return bearer(pair.json()["access_token"])
