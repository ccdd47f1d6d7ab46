"""The HTTP conventions every service follows: a health endpoint, and JSON errors."""

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from common.telemetry import HEALTH_PATH


def add_health_endpoint(app: Flask) -> None:
    """Answer health checks (Docker's, make run's) without producing telemetry."""
    app.add_url_rule(HEALTH_PATH, "health", lambda: {"status": "ok"})


def add_json_errors(app: Flask) -> None:
    """Answer every error as {"error": "..."}, as a JSON API should.

    Unexpected exceptions arrive here as a 500 with a generic description, so no stack
    trace or internal detail ever reaches the client.
    """

    @app.errorhandler(HTTPException)
    def json_error(error: HTTPException):
        return jsonify(error=error.description), error.code
