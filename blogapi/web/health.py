"""Health: is the API up and can it reach its database (liveness), and may it take traffic
(readiness)? Probes are never rate limited: a load balancer asks often, from one address."""

from __future__ import annotations

import logging
from typing import Any

from flask_restful import Resource
from marshmallow import fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blogapi.extensions import db, limiter
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import database_unavailable, problem
from blogapi.web.fields import StrictSchema
from blogapi.web.readiness import readiness
from blogapi.web.schemas import ProblemSchema

NO_STORE = {"Cache-Control": "no-store"}
RETRY_AFTER = "5"
log = logging.getLogger("blogapi.health")


class HealthSchema(StrictSchema):
    """The service's health."""

    status = fields.String(dump_only=True, required=True, metadata={"example": "ok"})
    database = fields.String(dump_only=True, required=True, metadata={"example": "ok"})


class Health(Resource):
    """GET /health for load balancers and monitors."""

    decorators = [limiter.exempt]

    @endpoint(
        summary="Health",
        description="200 when the API and its database answer; 503 problem when the database "
        "does not.",
        tag="service",
        responses={200: Reply(HealthSchema, "Up, with a reachable database.")},
    )
    def get(self) -> Any:
        """200 when the database answers, 503 problem when it does not."""
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return database_unavailable(exc)
        finally:
            db.session.rollback()
        return {"status": "ok", "database": "ok"}


class ReadyChecksSchema(StrictSchema):
    """Each readiness check's result."""

    database = fields.String(dump_only=True, required=True, metadata={"example": "ok"})
    redis = fields.String(
        dump_only=True,
        required=True,
        metadata={"example": "ok", "description": '"ok", or "not configured" without Redis.'},
    )
    migrations = fields.String(dump_only=True, required=True, metadata={"example": "ok"})
    queue = fields.String(dump_only=True, required=True, metadata={"example": "ok"})


class ReadySchema(StrictSchema):
    """The instance may take traffic."""

    status = fields.String(dump_only=True, required=True, metadata={"example": "ready"})
    checks = fields.Nested(ReadyChecksSchema, dump_only=True, required=True)
    backlog = fields.Integer(
        dump_only=True,
        required=True,
        metadata={
            "example": 0,
            "description": "Jobs due and not done, webhooks and mail (counted up to "
            "READY_MAX_BACKLOG + 1).",
        },
    )


class Ready(Resource):
    """GET /health/ready for load balancers and orchestrators' readiness probes."""

    decorators = [limiter.exempt]

    @endpoint(
        summary="Readiness",
        description="200 when this instance may take traffic: its database answers, its Redis "
        "answers (when one is configured), the database is at the migration head of this "
        "code, and the webhook work and mail due and not done is at most READY_MAX_BACKLOG. "
        "Otherwise 503. Sent with Cache-Control: no-store.",
        tag="service",
        responses={
            200: Reply(ReadySchema, "Ready; every check passed."),
            503: Reply(
                ProblemSchema,
                "Not ready: `detail` names the failed checks, and the `checks` member gives each "
                'check\'s result ("ok", "not configured", or why it failed), as in the 200 '
                "reply; `backlog` is the worker's backlog (null when it could not be counted).",
                ("Retry-After",),
            ),
        },
    )
    def get(self) -> Any:
        """200 when every check passes, else a 503 problem naming those that failed."""
        found = readiness()
        if not found.failed:
            body = {"status": "ready", "checks": found.checks, "backlog": found.backlog}
            return body, 200, NO_STORE
        reasons = "; ".join(f"{name}: {found.checks[name]}" for name in found.failed)
        log.warning("not ready: %s", reasons)
        return problem(
            503,
            f"Not ready: {', '.join(found.failed)}.",
            headers={**NO_STORE, "Retry-After": RETRY_AFTER},
            extra={"checks": found.checks, "backlog": found.backlog},
        )
