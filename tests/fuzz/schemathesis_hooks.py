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
        """A fresh token pair for the fuzzing account."""
        response = requests.post(
            f"{os.environ['BLOGAPI_FUZZ_API']}/auth/login",
            json={
                "username": os.environ["BLOGAPI_FUZZ_USER"],
                "password": os.environ["BLOGAPI_FUZZ_PASSWORD"],
            },
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def set(self, case, data, ctx):
        """Send the token the operation takes: the refresh token to /auth/refresh, else access."""
        refresh = case.method.upper() == "POST" and case.path.endswith("/auth/refresh")
        case.headers = case.headers or {}
        case.headers["Authorization"] = (
            f"Bearer {data['refresh_token' if refresh else 'access_token']}"
        )


def is_positive(case) -> bool:
    """Whether schemathesis generated this case to be valid (negative cases must stay invalid)."""
    meta = getattr(case, "meta", None)
    mode = getattr(getattr(meta, "generation", None), "mode", None)
    return getattr(mode, "value", mode) == "positive"


@schemathesis.hook
def before_call(context, case, **kwargs):
    """Let valid password changes know the password, so they reach the 200 path, not only 401.

    The new password is the same one, so the next case can still log in.
    """
    if (
        case.method.upper() == "PUT"
        and case.path.endswith("/auth/password")
        and isinstance(case.body, dict)
        and is_positive(case)
    ):
        password = os.environ["BLOGAPI_FUZZ_PASSWORD"]
        case.body = {**case.body, "current_password": password, "new_password": password}


POST_IDENT = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    """Point half the valid-looking post idents at posts that exist, so edits reach real posts,
    and half the revision numbers at the revisions every post has (1 and, when edited, 2)."""
    if not path_parameters:
        return path_parameters
    ident = path_parameters.get("ident")
    posts = os.environ.get("BLOGAPI_FUZZ_POSTS", "").split(",")
    if isinstance(ident, str) and POST_IDENT.fullmatch(ident) and posts != [""]:
        choice = sum(ident.encode()) % (2 * len(posts))
        if choice < len(posts):
            path_parameters["ident"] = posts[choice]
    number = path_parameters.get("number")
    if isinstance(number, int) and number % 2:
        path_parameters["number"] = 1 + number % 4 // 2
    return path_parameters
