"""`make run` serves the API, ready, with a webhook worker beside it, and Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
import requests

from devtools.live import ROOT
from devtools.processes import children_of
from devtools.server import HOST, free_port
from tests.support.accounts import PASSWORD
from tests.support.mail import text_part

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]


def command_line(pid: int) -> str:
    """How process `pid` was started, as one string ("" once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def environment_of(pid: int) -> dict[str, str]:
    """The environment process `pid` was started with."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if b"=" in item)


def is_running(pid: int) -> bool:
    """Whether the process exists and has not ended (a zombie has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll the health endpoint until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"run_dev exited with {process.returncode}"
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def wait_for_mail(folder: Path, count: int, timeout: float) -> list[EmailMessage]:
    """The first `count` messages the development mailer wrote to `folder`, parsed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob("*.eml")) if folder.exists() else []
        if len(found) >= count:
            return [message_from_bytes(path.read_bytes(), policy=default) for path in found]
        time.sleep(0.2)
    raise AssertionError(f"{count} messages were not written to {folder} within {timeout} s")


def test_ctrl_c_stops_the_web_server_and_the_worker(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BLOGAPI_", "TEST_")) and key != "DATABASE_URL"
    }
    env.update(BLOGAPI_INSTANCE_DIR=str(tmp_path), BLOGAPI_ENV="development")
    port = free_port()
    with open(tmp_path / "run_dev.log", "wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "devtools.run_dev", "--host", HOST, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    children: list[int] = []
    try:
        wait_until_healthy(f"http://{HOST}:{port}/api/v1/health", run, timeout=60)
        children = children_of(run.pid)
        commands = [command_line(pid) for pid in children]
        assert any("manage.py worker" in command for command in commands), commands
        assert any("manage.py run" in command for command in commands), commands
        assert (tmp_path / "blogapi.db").exists()  # the embedded default, migrated first
        # The server and the worker write their metrics to one folder, so /metrics has both.
        folders = {environment_of(pid).get("PROMETHEUS_MULTIPROC_DIR") for pid in children}
        assert len(folders) == 1 and None not in folders
        metrics = requests.get(f"http://{HOST}:{port}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "blogapi_http_request_duration_seconds_count" in metrics.text
        # The development database the documented set-up makes is ready for traffic.
        ready = requests.get(f"http://{HOST}:{port}/api/v1/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["migrations"] == "ok"
        # A newcomer who forgets a password finds the reset mail in the instance folder, and
        # its subject in the terminal.
        api = f"http://{HOST}:{port}/api/v1"
        account = {"username": "newcomer", "email": "new@example.com", "password": PASSWORD}
        assert requests.post(f"{api}/auth/register", json=account, timeout=10).status_code == 201
        forgot = requests.post(
            f"{api}/auth/password/forgot", json={"email": "new@example.com"}, timeout=10
        )
        assert forgot.status_code == 202
        mails = wait_for_mail(tmp_path / "mail", 2, timeout=30)
        [reset] = [mail for mail in mails if str(mail["Subject"]).startswith("Reset your password")]
        assert f"http://{HOST}:{port}/reset-password?token=" in text_part(reset)
        assert str(reset["Subject"]) in (tmp_path / "run_dev.log").read_text()

        run.send_signal(signal.SIGINT)  # what Ctrl-C in a terminal sends
        # Sooner than run_dev's own deadline for killing a child that does not stop.
        assert run.wait(timeout=10) == 0, (tmp_path / "run_dev.log").read_text()
        deadline = time.monotonic() + 5
        while any(is_running(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [command_line(pid) for pid in children if is_running(pid)]
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{HOST}:{port}/api/v1/health", timeout=2)
        assert not Path(str(folders.pop())).exists()  # removed with the processes
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=10)
        for pid in children:  # left behind only when the test failed
            if is_running(pid):
                os.killpg(pid, signal.SIGKILL)
