"""The API is stateless: no cookie sessions are read or written."""

from __future__ import annotations

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin


class NoSessions(SessionInterface):
    """Flask then uses its null session: no cookie parsing or signing on any request."""

    def open_session(self, app: Flask, request: Request) -> None:
        """No session to open."""
        return None

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Nothing to save."""
        return None
