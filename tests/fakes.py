"""Small stand-in services for tests of the services that call others."""

import time

from flask import Flask, abort

# A valid answer of the gateway (common.contracts.check_gateway_answer).
GATEWAY_ANSWER = {
    "place": {
        "name": "Nairobi, Kenya",
        "latitude": -1.28,
        "longitude": 36.82,
        "source": "gazetteer",
    },
    "iss": {
        "distance": 4321.4,
        "location": {"latitude": 30.5, "longitude": -20.25},
        "source": "sgp4",
        "time": "2026-11-21T12:00:00+00:00",
        "tle_age_days": 69,
    },
}


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
