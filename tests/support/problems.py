"""RFC 9457 problem responses, as every refusal and error of the API must be."""

from __future__ import annotations

from typing import Any

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int | None = None) -> dict[str, Any]:
    """Assert an RFC 9457 problem response (with this status when given); return its body."""
    shown = (response.status_code, response.get_data(as_text=True))
    if status is not None:
        assert response.status_code == status, shown
    assert response.headers["Content-Type"] == PROBLEM, shown
    body = response.get_json(force=True)
    assert body["status"] == response.status_code
    assert body["type"] == "about:blank"
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["request_id"] == response.headers["X-Request-Id"], shown
    return body


def comparable(response: Any) -> dict[str, Any]:
    """A problem's body without its request id: what one client could compare with another's
    (two requests never share an id)."""
    body = assert_problem(response)
    del body["request_id"]
    return body
