"""The yardstick: bare Flask answering {"ok": true}, served exactly like blogapi; and, for the
media benchmark, the file at BARE_FILE with send_file as a plain Flask app would serve it."""

import os

from flask import Flask, jsonify, send_file


def create_app() -> Flask:
    """A Flask app with one JSON route and one file route."""
    app = Flask(__name__)

    @app.get("/")
    def hello():
        return jsonify(ok=True)

    @app.get("/file")
    def file():
        return send_file(os.environ["BARE_FILE"], mimetype="image/jpeg", max_age=31536000)

    return app
