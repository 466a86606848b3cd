"""Who is calling: the client address used for rate limits and the audit log."""

from flask import request


def client_address() -> str:
    """The caller's address; ProxyFix has already applied TRUSTED_PROXIES to it."""
    return request.remote_addr or "unknown"
