"""Schemathesis fuzzes the live server from its own OpenAPI document: nothing may fail.

The SQLite pass runs every phase. The PostgreSQL pass runs the examples and the coverage phase
(each operation's boundary and invalid values: NUL bytes, huge numbers, long strings, which are
where the two databases differ) but not the random fuzzing, which exercises the app's own code
the same on both and would take the suite past its time budget."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

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
from tests.support.mail import start_smtp_server
from tests.support.media import gradient_jpeg, key_of

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
# FUZZ_TAG=media fuzzes only the operations with that tag (while working on one feature).
PHASES = "examples,coverage" if os.environ.get("TEST_DATABASE_URL") else "examples,coverage,fuzzing"
ONLY = ["--include-tag", os.environ["FUZZ_TAG"]] if os.environ.get("FUZZ_TAG") else []


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


def seed_media(api: str) -> tuple[list[str], list[str]]:
    """A few uploads of the fuzzing admin, one of them a post's feature image (so a delete can
    meet its 409): their ids, and the keys of their files and variants."""
    token = requests.post(
        f"{api}/auth/login", json={"username": "fuzzer", "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    ids, keys = [], []
    for n, size in enumerate([(1000, 700), (400, 300), (64, 64)]):
        media = requests.post(
            f"{api}/media",
            headers=auth,
            files={"file": (f"seed-{n}.jpg", gradient_jpeg(size), "image/jpeg")},
            data={"alt": f"Seed {n}"},
            timeout=30,
        ).json()
        ids.append(str(media["id"]))
        keys += [key_of(url) for url in [media["url"], *(v["url"] for v in media["variants"])]]
    featured = requests.post(
        f"{api}/posts",
        json={"title": "Featured", "body": "With an image.", "feature_image_id": int(ids[0])},
        headers=auth,
        timeout=30,
    )
    assert featured.status_code == 201, featured.text
    return ids, keys


def seed_webhooks(api: str) -> list[str]:
    """A few webhooks (at a literal public address: a name would need DNS), so the webhook
    operations reach real ones, not only 404s; no worker runs, so nothing is sent."""
    token = requests.post(
        f"{api}/auth/login", json={"username": "fuzzer", "password": PASSWORD}, timeout=30
    ).json()["access_token"]
    ids = []
    for n in range(3):
        made = requests.post(
            f"{api}/webhooks",
            json={"url": f"https://93.184.215.14/hook/{n}", "events": ["post.published"]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert made.status_code == 201, made.text
        ids.append(str(made.json()["id"]))
    return ids


@pytest.fixture
def smtp_url() -> Iterator[str]:
    """Mail on, as a deployment has it, so the mail endpoints are fuzzed and not just off (the
    server only stages messages: nothing in this test sends them)."""
    smtp = start_smtp_server()
    try:
        yield f"{smtp.url}?starttls=false"
    finally:
        smtp.stop()


@pytest.mark.slow
def test_schemathesis_finds_nothing(tmp_path, smtp_url):
    env = production_env(
        fresh_database_url(tmp_path), RATELIMIT_ENABLED="false", MAIL_URL=smtp_url,
        **OPEN_REGISTRATION,
    )  # fmt: skip
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
        media, keys = seed_media(server.api)
        webhooks = seed_webhooks(server.api)
        fuzz_env = dict(
            os.environ,
            SCHEMATHESIS_HOOKS="tests.fuzz.schemathesis_hooks",
            BLOGAPI_FUZZ_API=server.api,
            BLOGAPI_FUZZ_USER="fuzzer",
            BLOGAPI_FUZZ_PASSWORD=PASSWORD,
            BLOGAPI_FUZZ_POSTS=",".join(posts),
            BLOGAPI_FUZZ_MEDIA=",".join(media),
            BLOGAPI_FUZZ_MEDIA_KEYS=",".join(keys),
            BLOGAPI_FUZZ_WEBHOOKS=",".join(webhooks),
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
                PHASES,
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
                *ONLY,
            ],
            cwd=ROOT,
            env=fuzz_env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    report = result.stdout[-12000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
