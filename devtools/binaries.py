"""Where the server programs are: PostgreSQL's bin dir and redis-server (installed if need be)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from devtools.os_users import is_root


def find_pg_bindir() -> str | None:
    """Return the PostgreSQL server bin dir ($PG_BINDIR wins), or None without initdb."""

    def has_initdb(directory: str | os.PathLike[str]) -> bool:
        """Return True when directory holds an executable initdb."""
        return os.access(os.path.join(directory, "initdb"), os.X_OK)

    override = os.environ.get("PG_BINDIR")
    if override:
        return override if has_initdb(override) else None
    base = Path("/usr/lib/postgresql")
    versions: list[tuple[tuple[int, ...], Path]] = []
    if base.is_dir():
        for child in base.iterdir():
            if re.fullmatch(r"\d+(\.\d+)*", child.name) and has_initdb(child / "bin"):
                versions.append((tuple(int(p) for p in child.name.split(".")), child / "bin"))
    if versions:
        return str(max(versions)[1])
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        if out and has_initdb(out):
            return out
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def find_redis_server() -> str | None:
    """Return the redis-server path ($REDIS_SERVER wins), or None."""
    override = os.environ.get("REDIS_SERVER")
    if override:
        return override if os.access(override, os.X_OK) else None
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in (
        "/usr/bin/redis-server",
        "/usr/local/bin/redis-server",
        "/usr/sbin/redis-server",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_redis_installed() -> str | None:
    """Return redis-server's path, apt-get installing it first when root on Debian."""
    found = find_redis_server()
    if found or os.environ.get("REDIS_SERVER"):
        return found
    apt_get = shutil.which("apt-get")
    if not (is_root() and apt_get and os.path.exists("/etc/debian_version")):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    steps = [
        [apt_get, *lock, "update", "-qq"],
        [apt_get, *lock, "install", "-y", "-qq", "--no-install-recommends", "redis-server"],
    ]
    for cmd in steps:
        try:
            result = subprocess.run(
                cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"redis: {' '.join(cmd[:1] + cmd[3:])} failed: {exc}", file=sys.stderr)
            return None
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
            print(f"redis: {' '.join(cmd[:1] + cmd[3:])} failed:\n{tail}", file=sys.stderr)
            return None
    return find_redis_server()
