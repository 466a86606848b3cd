"""Run blogapi under gunicorn on loopback, the way production runs, for black-box tests."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import requests

from devtools.processes import children_of
from devtools.server import HOST, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The SITE_URL production_env gives (production needs one); a LiveServer started with it
# serves its own address instead, so its Link headers lead back to it.
LOOPBACK_SITE = f"http://{HOST}"
# Production keeps registration closed; the stories that sign writers up open it, as authors.
OPEN_REGISTRATION = {"REGISTRATION_OPEN": "true", "DEFAULT_ROLE": "author"}
# Settings a developer's shell may hold that would change what a production instance does.
SHELL_ONLY = frozenset({"SITE_URL", "TRUSTED_HOSTS", "REGISTRATION_OPEN", "DEFAULT_ROLE"})


def fresh_database_url(workdir: Path) -> str:
    """A new empty database: on the test PostgreSQL server when there is one, else SQLite."""
    admin_url = os.environ.get("TEST_PG_ADMIN_URL")
    if not admin_url:
        return f"sqlite:///{workdir / 'live.db'}"
    import psycopg

    name = f"blogapi_live_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment for a production instance with strong random secrets, on loopback."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BLOGAPI_", "JWT_", "RATELIMIT", "TEST_", "OTEL_", "PROMETHEUS_"))
        and key not in SHELL_ONLY
    }
    env.update(
        BLOGAPI_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=database_url,
        SITE_URL=LOOPBACK_SITE,
        # Mail off unless a test points MAIL_URL at its own SMTP server.
        MAIL_URL="none",
        PYTHONPATH=str(ROOT),
        # Uploaded media in a folder of this instance's own, never the checkout's instance/.
        MEDIA_ROOT=tempfile.mkdtemp(prefix="blogapi-live-media-"),
    )
    env.update(extra)
    return env


def migrate(env: Mapping[str, str]) -> None:
    """Apply the migrations to the instance's database."""
    subprocess.run(
        [sys.executable, "manage.py", "db", "upgrade"],
        cwd=ROOT,
        env=dict(env),
        check=True,
        capture_output=True,
        timeout=120,
    )


class LiveServer:
    """gunicorn serving blogapi on 127.0.0.1; stops itself on exit."""

    def __init__(
        self,
        env: Mapping[str, str],
        workers: int = 2,
        log_path: Path | None = None,
        app: str = "blogapi:create_app()",
        health_path: str = "/api/v1/health",
    ):
        """Configure gunicorn on a free loopback port; call start() or use it with `with`."""
        self.env = dict(env)
        self.workers = workers
        self.app = app
        self.health_path = health_path
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        if self.env.get("SITE_URL") == LOOPBACK_SITE:
            self.env["SITE_URL"] = self.url
        self.api = f"{self.url}/api/v1"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.health_checks = 0  # answered while waiting for it to start: the app counted them

    def start(self, timeout: float = 60) -> LiveServer:
        """Start gunicorn and wait until /health answers."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                str(self.workers),
                "--bind",
                f"{HOST}:{self.port}",
                "--graceful-timeout",
                "5",
                self.app,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                status = requests.get(f"{self.url}{self.health_path}", timeout=5).status_code
            except requests.RequestException:
                pass
            else:
                self.health_checks += 1
                if status == 200:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not become healthy in time")

    def worker_pids(self) -> list[int]:
        """The gunicorn worker processes (children of the master)."""
        if not self.process:
            return []
        return children_of(self.process.pid)

    def stop(self) -> None:
        """Stop gunicorn (gracefully, then for good)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def __enter__(self) -> LiveServer:
        """Start gunicorn."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop gunicorn."""
        self.stop()


class LiveWorker:
    """`manage.py worker` for an instance's environment; stops itself on exit."""

    def __init__(
        self,
        env: Mapping[str, str],
        threads: int = 4,
        poll: float = 0.2,
        log_path: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ):
        """Configure the worker; call start() or use it with `with`."""
        self.env = dict(env)
        self.threads = threads
        self.poll = poll
        self.log_path = log_path
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None

    def start(self) -> LiveWorker:
        """Start the worker process (it needs no warm-up: the outbox waits for it)."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "worker",
                "--workers",
                str(self.threads),
                "--poll",
                str(self.poll),
                *self.extra_args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        return self

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-whatever, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> LiveWorker:
        """Start the worker."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop the worker."""
        self.stop()
