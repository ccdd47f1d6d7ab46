"""Small stand-in services for tests of the services that call others."""

import time

from flask import Flask, abort


def slow_service(seconds: float) -> Flask:
    """Answers every request, but only after `seconds`."""
    app = Flask("slow_service")

    @app.get("/")
    def slow():
        time.sleep(seconds)
        return {}

    return app


def fixed_service(status: int = 200, body=None) -> Flask:
    """Answers every request with `status` and `body`."""
    app = Flask("fixed_service")

    @app.get("/")
    def fixed():
        if body is None:
            abort(status)
        return body, status

    return app
