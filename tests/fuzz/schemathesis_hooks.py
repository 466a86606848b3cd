"""Schemathesis hooks: every case is sent with a token from a real login."""

from __future__ import annotations

import os

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
