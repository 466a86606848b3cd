"""Health: is the API up, and can it reach its database?"""

from __future__ import annotations

from typing import Any

from flask_restful import Resource
from marshmallow import fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from blogapi.extensions import db
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import database_unavailable
from blogapi.web.fields import StrictSchema


class HealthSchema(StrictSchema):
    """The service's health."""

    status = fields.String(dump_only=True, required=True, metadata={"example": "ok"})
    database = fields.String(dump_only=True, required=True, metadata={"example": "ok"})


class Health(Resource):
    """GET /health for load balancers and monitors."""

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
