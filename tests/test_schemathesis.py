"""Schemathesis fuzzes the live server from its own OpenAPI document: nothing may fail."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from devtools.live import (
    BIN,
    OPEN_REGISTRATION,
    ROOT,
    LiveServer,
    fresh_database_url,
    migrate,
    production_env,
)

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)
PASSWORD = "fuzzing passphrase 4 blogapi"
MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES", "40")


def seed_posts(api: str) -> list[str]:
    """A few posts of the fuzzing admin (drafts and published), by id and by slug."""
    token = requests.post(
        f"{api}/auth/login", json={"username": "fuzzer", "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    idents = []
    for n in range(6):
        post = requests.post(
            f"{api}/posts",
            json={"title": f"Fuzz target {n}", "body": "Some *text*.", "tags": ["fuzz"]},
            headers=auth,
            timeout=30,
        ).json()
        if n % 2:
            requests.post(f"{api}/posts/{post['id']}/publish", headers=auth, timeout=30)
        idents += [str(post["id"]), post["slug"]]
    return idents


@pytest.mark.slow
def test_schemathesis_finds_nothing(tmp_path):
    env = production_env(
        fresh_database_url(tmp_path), RATELIMIT_ENABLED="false", **OPEN_REGISTRATION
    )
    migrate(env)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create-user",
            "fuzzer",
            "--email",
            "fuzzer@example.com",
            "--role",
            "admin",
            "--password-stdin",
        ],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    with LiveServer(env, log_path=tmp_path / "gunicorn.log") as server:
        posts = seed_posts(server.api)
        fuzz_env = dict(
            os.environ,
            SCHEMATHESIS_HOOKS="tests.fuzz.schemathesis_hooks",
            BLOGAPI_FUZZ_API=server.api,
            BLOGAPI_FUZZ_USER="fuzzer",
            BLOGAPI_FUZZ_PASSWORD=PASSWORD,
            BLOGAPI_FUZZ_POSTS=",".join(posts),
            PYTHONPATH=str(ROOT),
        )
        result = subprocess.run(
            [
                str(BIN / "schemathesis"),
                "--config-file",
                str(ROOT / "tests" / "fuzz" / "schemathesis.toml"),
                "run",
                f"{server.api}/openapi.json",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                MAX_EXAMPLES,
                "--seed",
                "20261123",
                "--workers",
                "1",  # CPython 3.11's ast.parse is not thread-safe; schemathesis uses it
                "--request-timeout",
                "30",
                "--suppress-health-check",
                "all",
                "--no-color",
            ],
            cwd=ROOT,
            env=fuzz_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    report = result.stdout[-12000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
