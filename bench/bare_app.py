"""The yardstick: bare Flask answering {"ok": true}, served exactly like blogapi."""

from flask import Flask, jsonify


def create_app() -> Flask:
    """A Flask app with one JSON route."""
    app = Flask(__name__)

    @app.get("/")
    def hello():
        return jsonify(ok=True)

    return app
