"""What a test needs from the machine: skipped on a developer's machine without it, failed on CI.

CI (`CI=true`) runs `scripts/install-system-deps` first, so a missing tool there is a broken
set-up that must turn the build red rather than quietly shrink the suite.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

from devtools.binaries import find_pg_bindir
from devtools.chromium import find_chromium

ON_CI = bool(os.environ.get("CI"))


def unavailable(reason: str) -> NoReturn:
    """Skip the running test because reason; on CI fail it instead."""
    if ON_CI:
        pytest.fail(f"{reason}; CI must have it (scripts/install-system-deps)")
    pytest.skip(reason)


# On CI the mark never skips: the test runs and fails loudly if the binaries are missing.
needs_postgres = pytest.mark.skipif(
    find_pg_bindir() is None and not ON_CI,
    reason="PostgreSQL server binaries are not installed",
)


def chromium_path() -> str:
    """Debian's Chromium for the browser tests; CI must have it, a developer's machine may skip."""
    path = find_chromium()
    if path:
        return path
    unavailable("chromium is not installed (apt-get install chromium)")
