"""Which OS user runs a server, and a temporary directory that user can work in.

PostgreSQL refuses to run as root: as root, its programs run through runuser as another
user, in a temporary directory that user owns and can reach.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from devtools.errors import ServerError


def is_root() -> bool:
    """Return True when running as root (servers then run as another user)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _os_user_ids(name: str) -> tuple[int, int]:
    """Return (uid, gid) of an OS user, with a clear error when it is missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ServerError(
            f"OS user {name!r} does not exist; cannot run the server as root"
        ) from None
    return entry.pw_uid, entry.pw_gid


def as_user(cmd: list[str], user: str | None) -> list[str]:
    """Prefix cmd with runuser when it must run as another OS user."""
    if user is None:
        return cmd
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if not os.path.exists(runuser):
        raise ServerError("runuser not found; cannot run the server as a non-root user")
    return [runuser, "-u", user, "--", *cmd]


def _usable_by(directory: Path, user: str | None) -> bool:
    """Return True when user can enter and write directory (all parents included)."""
    if user is None:
        return os.access(directory, os.W_OK | os.X_OK)
    probe = 'cd "$1" && : > .probe && rm -f .probe'
    try:
        result = subprocess.run(
            as_user(["/bin/sh", "-c", probe, "sh", str(directory)], user),
            cwd="/",
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def make_tmpdir(prefix: str, user: str | None) -> Path:
    """Create a private temp dir owned by user, trying other roots when TMPDIR is unusable."""
    roots = [tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]
    owner = _os_user_ids(user) if user is not None else None
    tried: list[str] = []
    for root in dict.fromkeys(roots):
        # Unix socket paths are limited to ~107 bytes; keep well below.
        if not os.path.isdir(root) or len(root) > 60:
            continue
        try:
            directory = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        except OSError as exc:
            tried.append(f"{root}: {exc}")
            continue
        if owner is not None:
            os.chown(directory, *owner)
        if _usable_by(directory, user):
            return directory
        tried.append(f"{root}: not usable by {user or 'current user'}")
        shutil.rmtree(directory, ignore_errors=True)
    raise ServerError("no usable temporary directory: " + "; ".join(tried))
