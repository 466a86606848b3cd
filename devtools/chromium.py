"""Debian's Chromium, headless, as the browser tests and the screenshots start it."""

from __future__ import annotations

import os
import shutil

# Headless, as root, and quiet: with the background-networking flags off, Chromium tries the
# closed network over and over (and at every start looks up Google's hosts).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> str | None:
    """The Chromium to drive: $CHROMIUM, else `chromium` on the PATH, else None."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium")
