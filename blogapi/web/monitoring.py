"""GET /metrics: the Prometheus text format, for the operator's scraper and nobody else.

Answered to a client whose address is in METRICS_ALLOW (loopback by default), unless the
request came through a proxy the app does not trust (then its address says nothing), or to
any client with `Authorization: Bearer <METRICS_TOKEN>`. METRICS_ENABLED=false: a 404.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Response, current_app, request
from flask_restful import Resource

from blogapi.observability.background import CHORES
from blogapi.observability.metrics import CONTENT_TYPE, exposition
from blogapi.observability.state import collect_state
from blogapi.web.client import client_address
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError

TEXT = {"type": "string"}
FORWARDING = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")


def token_presented() -> str | None:
    """The bearer token the request carries, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def address_allowed() -> bool:
    """Whether the client's own address is one METRICS_ALLOW lets in."""
    config = current_app.config
    if not config.get("TRUSTED_PROXIES") and any(name in request.headers for name in FORWARDING):
        return False  # relayed by a proxy we do not trust: the address is the proxy's
    try:
        address = ipaddress.ip_address(client_address())
    except ValueError:
        return False
    return any(address in network for network in config["METRICS_ALLOW"])


def check_access() -> None:
    """Refuse a scrape that is neither from an allowed address nor carrying the token."""
    config = current_app.config
    if not config["METRICS_ENABLED"]:
        raise ApiError(404, "The requested URL was not found on the server.")
    expected = config.get("METRICS_TOKEN") or ""
    presented = token_presented()
    if expected and presented is not None:
        if hmac.compare_digest(presented.encode(), expected.encode()):
            return
        raise ApiError(401, "The metrics token is not the one this server expects.")
    if address_allowed():
        return
    raise ApiError(
        403,
        "Metrics are answered only to the addresses in METRICS_ALLOW"
        + (" or with METRICS_TOKEN." if expected else "."),
    )


class Metrics(Resource):
    """Prometheus metrics, at the site root where scrapers look."""

    @endpoint(
        summary="Prometheus metrics",
        description="Every metric in Prometheus's text exposition format (DEPLOY.md, "
        '"Watching it run"): requests by route and status, latency, requests in flight, the '
        "database pool, response caches, security events, webhook attempts and queue depth, "
        "worker tasks, media stored. At the site root. Answered to addresses in METRICS_ALLOW "
        "(loopback by default) reaching the app directly, or with `Authorization: Bearer "
        "<METRICS_TOKEN>`; 404 when METRICS_ENABLED is false.",
        tag="service",
        responses={
            200: Reply(TEXT, "The metrics.", (), CONTENT_TYPE),
            401: "A bearer token that is not METRICS_TOKEN.",
            403: "Neither an allowed address nor the token.",
            404: "Metrics are turned off (METRICS_ENABLED=false).",
        },
    )
    def get(self) -> Response:
        """Every metric, in Prometheus's text format."""
        check_access()
        CHORES.run()  # this process's live gauges (in flight, the pool) as of now
        body = exposition([collect_state])
        response = Response(body, mimetype=None, content_type=CONTENT_TYPE)
        response.headers["Cache-Control"] = "no-store"
        return response
