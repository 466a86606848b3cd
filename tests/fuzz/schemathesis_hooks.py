"""Schemathesis hooks: every case is sent with a token from a real login."""

from __future__ import annotations

import os
import re

import requests
import schemathesis


@schemathesis.auth(refresh_interval=None)
class RealLogin:
    """Log in before each case, so a fuzzed logout or password change cannot starve later ones."""

    def get(self, case, ctx):
        """A fresh access token for the fuzzing account."""
        response = requests.post(
            f"{os.environ['BLOGAPI_FUZZ_API']}/auth/login",
            json={
                "username": os.environ["BLOGAPI_FUZZ_USER"],
                "password": os.environ["BLOGAPI_FUZZ_PASSWORD"],
            },
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case, data, ctx):
        """Send it as a bearer token."""
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


POST_IDENT = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    """Point half the valid-looking post idents at posts that exist, so edits reach real posts."""
    if not path_parameters:
        return path_parameters
    ident = path_parameters.get("ident")
    posts = os.environ.get("BLOGAPI_FUZZ_POSTS", "").split(",")
    if isinstance(ident, str) and POST_IDENT.fullmatch(ident) and posts != [""]:
        choice = sum(ident.encode()) % (2 * len(posts))
        if choice < len(posts):
            path_parameters["ident"] = posts[choice]
    return path_parameters
