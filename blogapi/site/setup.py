"""Binds the public face to the app: its templates, and error pages for browsers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from blogapi.site.errors import error_page
from blogapi.web.errors import BROWSER_ERRORS_KEY

TEMPLATES = Path(__file__).parent / "templates"


def init_site(app: Flask) -> None:
    """Give the app the site's Jinja templates and let browsers see errors as pages."""
    app.template_folder = str(TEMPLATES)
    # Block tags leave no blank lines behind them in the pages.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.extensions[BROWSER_ERRORS_KEY] = error_page
