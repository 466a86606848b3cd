"""The whole auth story over real HTTP, under gunicorn, in production mode."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from devtools.live import BIN, ROOT, migrate, production_env
from tests.support.live import production_server

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """blogapi under gunicorn with two workers, production settings, a migrated database."""
    with production_server(tmp_path_factory.mktemp("live")) as live:
        yield live


def test_a_writer_registers_logs_in_refreshes_and_logs_out(server):
    api = server.api
    created = requests.post(
        f"{api}/auth/register",
        json={"username": "ada", "email": "ada@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert created.status_code == 201
    assert created.headers["Location"].endswith("/api/v1/users/ada")
    pair = requests.post(
        f"{api}/auth/login", json={"username": "ada", "password": PASSWORD}, timeout=10
    ).json()
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    # Each worker must accept tokens issued by the other, and see the same revocations.
    for _ in range(6):
        me = requests.get(f"{api}/auth/me", headers=auth, timeout=10)
        assert me.status_code == 200 and me.json()["username"] == "ada"
    rotated = requests.post(
        f"{api}/auth/refresh",
        headers={"Authorization": f"Bearer {pair['refresh_token']}"},
        timeout=10,
    )
    assert rotated.status_code == 200
    assert requests.post(f"{api}/auth/logout", headers=auth, timeout=10).status_code == 204
    for _ in range(6):
        refused = requests.get(f"{api}/auth/me", headers=auth, timeout=10)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/nowhere", {}, 404),
        ("delete", "/auth/login", {}, 405),
        (
            "post",
            "/auth/login",
            {"data": "{", "headers": {"Content-Type": "application/json"}},
            400,
        ),
        ("post", "/auth/login", {"data": "a=b"}, 415),
        ("post", "/auth/login", {"json": {"username": "x"}}, 422),
        ("get", "/auth/me", {"headers": {"Authorization": "Bearer nonsense"}}, 401),
    ],
)
def test_errors_over_http_are_problem_json(server, method, path, kwargs, status):
    response = requests.request(method, f"{server.api}{path}", timeout=10, **kwargs)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_security_headers_are_sent(server):
    response = requests.get(f"{server.api}/health", timeout=10)
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def gunicorn_start(tmp_path, **settings: str) -> subprocess.CompletedProcess[str]:
    """Try to start gunicorn in production with these settings changed; what it printed."""
    env = production_env(f"sqlite:///{tmp_path / 'x.db'}", **settings)
    return subprocess.run(
        [str(BIN / "gunicorn"), "--bind", "127.0.0.1:0", "blogapi:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_with_a_weak_secret(tmp_path):
    result = gunicorn_start(tmp_path, JWT_SECRET_KEY="super-secret")
    assert result.returncode != 0
    assert "configuration error: JWT_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_site_url(tmp_path):
    result = gunicorn_start(tmp_path, SITE_URL="")
    assert result.returncode != 0
    assert "configuration error: SITE_URL is not set" in result.stderr


def test_links_name_the_site_and_other_hosts_are_turned_away(server):
    listing = requests.get(f"{server.api}/posts", timeout=10)
    assert listing.headers["Link"].startswith(f"<{server.url}/api/v1/posts?")
    for forged in ({"Host": "evil.example"}, {"Host": f"evil.example:{server.port}"}):
        refused = requests.get(f"{server.api}/posts", headers=forged, timeout=10)
        assert refused.status_code == 400
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert "Link" not in refused.headers


def test_manage_py_upgrades_an_empty_database(tmp_path):
    env = production_env(f"sqlite:///{tmp_path / 'fresh.db'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "db", "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    migrate(env)
    result = subprocess.run(
        [sys.executable, "manage.py", "db", "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "(head)" in result.stdout
