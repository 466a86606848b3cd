"""Posts as an author writes them through the API: drafts, publishing, timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient

from tests.support.accounts import Account

API = "/api/v1"


def iso(moment: datetime) -> str:
    """A timestamp as the contract writes it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def write_post(client: FlaskClient, account: Account | None, **fields: Any) -> Any:
    """POST /posts with a title and body unless given; returns the response."""
    payload = {"title": "A post", "body": "Some *Markdown*."} | fields
    headers = account.headers if account else {}
    return client.post(f"{API}/posts", json=payload, headers=headers)


def new_post(client: FlaskClient, account: Account, **fields: Any) -> dict[str, Any]:
    """Create a draft and return its JSON."""
    response = write_post(client, account, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def publish(
    client: FlaskClient, account: Account, ident: Any, at: datetime | None = None, **headers: str
) -> Any:
    """POST /posts/{ident}/publish, now or at a given time."""
    kwargs: dict[str, Any] = {"headers": account.headers | headers}
    if at is not None:
        kwargs["json"] = {"publish_at": iso(at)}
    return client.post(f"{API}/posts/{ident}/publish", **kwargs)


def published_post(client: FlaskClient, account: Account, **fields: Any) -> dict[str, Any]:
    """Create and publish a post now; return its JSON."""
    post = new_post(client, account, **fields)
    response = publish(client, account, post["id"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()
