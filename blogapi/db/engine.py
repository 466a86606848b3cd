"""The database extension: Flask-SQLAlchemy with the engine options, timeouts and session
guard this API relies on."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from blogapi.db.errors import driver_reason
from blogapi.db.sqlite import (  # also registers the SQLite connection setup
    make_instance_folder,
    write_ahead_logging,
)

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

LIBPQ_DRIVERS = {"psycopg", "psycopg2"}
log = logging.getLogger("blogapi.db")


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS plus connect, statement and lock timeouts for the database."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # An error's message names its statement, not the values bound to it (an email, a hash):
    # the message reaches the logs with the traceback of an unexpected error.
    options.setdefault("hide_parameters", True)
    uri = config.get("SQLALCHEMY_DATABASE_URI")
    if not uri:
        return options
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        options["pool_pre_ping"] = False  # a file has no server to restart: skip the ping
        if url.database not in (None, "", ":memory:"):
            # Processes sharing a SQLite file take turns to write: wait for the lock, then 503.
            connect_args = dict(options.get("connect_args") or {})
            connect_args.setdefault("timeout", config.get("DATABASE_BUSY_TIMEOUT", 10))
            options["connect_args"] = connect_args
        return options
    if url.get_backend_name() != "postgresql" or url.get_driver_name() not in LIBPQ_DRIVERS:
        return options
    connect_args = dict(options.get("connect_args") or {})
    if "connect_timeout" not in url.query:
        connect_args.setdefault("connect_timeout", config.get("DATABASE_CONNECT_TIMEOUT", 5))
    statement_timeout = config.get("DATABASE_STATEMENT_TIMEOUT", 0)
    if statement_timeout and "options" not in url.query:
        connect_args.setdefault("options", f"-c statement_timeout={statement_timeout * 1000}")
    options["connect_args"] = connect_args
    return options


class Database(SQLAlchemy):
    """Flask-SQLAlchemy, with the timeouts of engine_options applied to the app's engine."""

    def init_app(self, app: Flask) -> None:
        """Bind to the app, its engine options completed for the configured database."""
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
        uri = app.config.get("SQLALCHEMY_DATABASE_URI")
        if uri and make_url(uri).get_backend_name() == "sqlite":
            make_instance_folder(make_url(uri).database, app.instance_path)
        super().init_app(app)
        with app.app_context():
            for engine in self.engines.values():
                write_ahead_logging(engine, app.config.get("SQLITE_SYNCHRONOUS", "NORMAL"))

    def end_session(self) -> None:
        """End the request's session; a connection that died meanwhile is dropped, not raised.

        The error handlers and the request's teardown call this, and must still answer: when the
        server goes away mid-request, the error may come from one connection while the session's
        own is dead too, and its rollback raising would turn the 503 being built (or the answer
        already made) into a 500.
        """
        try:
            self.session.remove()
        except SQLAlchemyError as error:
            log.error("rollback failed, connection discarded: %s", driver_reason(error))
            self.session().invalidate()  # the scoped_session proxy does not forward invalidate()
            self.session.registry.clear()

    def _teardown_session(self, exc: BaseException | None) -> None:
        """Flask-SQLAlchemy's end-of-request hook, through the same guard."""
        self.end_session()


# The database extension, unbound; blogapi.extensions hands it to the app with the others.
db = Database(metadata=MetaData(naming_convention=NAMING_CONVENTION))
