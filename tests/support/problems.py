"""Small helpers the test modules share."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem response with this status, and return its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.headers["Content-Type"] == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return body


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
