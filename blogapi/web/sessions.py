"""The API is stateless: no cookie sessions are read or written."""

from __future__ import annotations

from typing import Any

from flask.sessions import SessionInterface


class NoSessions(SessionInterface):
    """Flask then uses its null session: no cookie parsing or signing on any request."""

    def open_session(self, app: Any, request: Any) -> None:
        """No session to open."""
        return None

    def save_session(self, app: Any, session: Any, response: Any) -> None:
        """Nothing to save."""
        return None
