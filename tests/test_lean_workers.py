"""A web worker carries what serving needs; the rest loads when it is first used.

A fresh process in production config on SQLite builds the app as gunicorn does, and has not
imported the libraries that only an admin command, the queue worker or a feature's first use
needs. Each check runs in its own process, so the test process's imports hide nothing."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from devtools.live import ROOT, production_env

pytestmark = pytest.mark.database_agnostic

# Top-level package -> what loads it.
LOADED_ON_FIRST_USE = {
    "flask_migrate": "manage.py db",
    "alembic": "manage.py db",
    "mako": "manage.py db (alembic)",
    "pygments": "manage.py db (mako)",
    "huey": "the queue worker",
    "redis": "REDIS_URL",
    "psycopg": "a PostgreSQL DATABASE_URL",
    "mf2py": "an IndieAuth client's page",
    "bs4": "an IndieAuth client's page (mf2py)",
    "html5lib": "an IndieAuth client's page (mf2py)",
    "requests": "an IndieAuth client's page (mf2py)",
    "urllib3": "an IndieAuth client's page (requests)",
    "lxml": "the first feed (feedgen)",
    "feedgen": "the first feed",
    "dateutil": "the first feed (feedgen)",
    "PIL": "the first upload",
    "apispec": "the OpenAPI document",
    "text_unidecode": "the first non-ASCII title or tag",
    "boto3": "MEDIA_STORAGE=s3",
    "botocore": "MEDIA_STORAGE=s3",
    "opentelemetry": "OTEL_EXPORTER_OTLP_ENDPOINT",
}
# What a started web worker imports today is about 920 modules (1,410 before the libraries
# above were put off); a new eager import of a large library shows up here first.
MAX_WEB_WORKER_MODULES = 1000

# One process starts as a web worker does, reports, answers a readiness probe and reports, then
# binds the queue worker's tasks (as `manage.py worker` does before it runs them) and reports
# again.
SCRIPT = """
import sys
from blogapi import create_app
from blogapi.webhooks.queue import bind_tasks, make_huey

def report():
    packages = sorted({name.split('.')[0] for name in sys.modules})
    hashed = app.extensions['blogapi.passwords'].dummy_hash is not None
    print(len(sys.modules), hashed, ' '.join(packages))

app = create_app()
report()
probe = app.test_client().get('/api/v1/health/ready', base_url=app.config['SITE_URL'])
assert 'checks' in probe.get_json(), probe.get_data()  # the readiness view answered
report()
bind_tasks(app, make_huey(app.config))
report()
"""


@dataclass(frozen=True)
class Started:
    """What a process had imported, and whether it had hashed a password, at one point."""

    modules: int
    hashed_a_password: bool
    packages: set[str]


@pytest.fixture(scope="module")
def web_then_queue_worker(tmp_path_factory) -> tuple[Started, Started, Started]:
    """A fresh production process on SQLite, without Redis: as a web worker, after it answered
    a readiness probe, then as the queue worker."""
    workdir = tmp_path_factory.mktemp("lean")
    env = production_env(
        f"sqlite:///{workdir / 'lean.db'}", BLOGAPI_INSTANCE_DIR=str(workdir), REDIS_URL=""
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split(" ", 2) for line in result.stdout.splitlines()[-3:]]
    return tuple(  # type: ignore[return-value]
        Started(int(modules), hashed == "True", set(packages.split()))
        for modules, hashed, packages in lines
    )


def put_off(packages: set[str], needed_by_the_start: frozenset[str] = frozenset()) -> list[str]:
    """The packages of LOADED_ON_FIRST_USE that were imported anyway, with what needs them."""
    return [
        f"{name} (needed only by {LOADED_ON_FIRST_USE[name]})"
        for name in sorted(packages & LOADED_ON_FIRST_USE.keys() - needed_by_the_start)
    ]


def test_a_web_worker_starts_without_what_only_commands_and_first_uses_need(
    web_then_queue_worker,
):
    web, _, _ = web_then_queue_worker
    assert {"flask", "sqlalchemy", "blogapi"} <= web.packages  # the check sees what was imported
    assert put_off(web.packages) == []
    assert web.modules <= MAX_WEB_WORKER_MODULES
    # The unknown-user hash (argon2 fills 19 MiB for it) waits for the first login.
    assert not web.hashed_a_password


def test_the_queue_worker_loads_huey_without_the_drivers_of_storages_it_does_not_use(
    web_then_queue_worker,
):
    _, _, queue = web_then_queue_worker
    assert "huey" in queue.packages
    assert put_off(queue.packages, frozenset({"huey"})) == []
    assert not queue.hashed_a_password


def test_a_readiness_probe_reads_the_migrations_without_alembic_and_needs_no_redis(
    web_then_queue_worker,
):
    _, probed, _ = web_then_queue_worker
    assert put_off(probed.packages) == []


def test_the_db_commands_are_listed_and_run_flask_migrate(runner):
    listing = runner.invoke(args=["--help"])
    assert listing.exit_code == 0, listing.output
    assert "db" in listing.output.split()
    assert "Perform database migrations." in listing.output
    commands = runner.invoke(args=["db", "--help"])
    assert commands.exit_code == 0, commands.output
    assert {"upgrade", "downgrade", "current", "heads", "check"} <= set(commands.output.split())
