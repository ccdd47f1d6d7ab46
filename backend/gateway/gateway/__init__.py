"""The gateway: the one backend the frontend talks to.

    GET /?location=Paris  ->  {"place": {...from the geolocator...},
                               "iss": {...from the ISS distance service...}}

It asks the geolocator where the place is, then the ISS distance service how far the
ISS is from there. Their client errors (400, 404) are passed on; a service that is
down becomes a 502, and one that is too slow a 504.
"""

import os

from flask import Flask, current_app, jsonify, request

from common.http import add_health_endpoint, add_json_errors
from common.telemetry import setup_telemetry
from common.upstream import UpstreamError, get_json

__version__ = "1.0.0"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        GEOLOCATOR_URL=os.environ.get("GEOLOCATOR_URL", "http://127.0.0.1:8082"),
        ISS_DISTANCE_URL=os.environ.get("ISS_DISTANCE_URL", "http://127.0.0.1:8083"),
        UPSTREAM_TIMEOUT_SECONDS=float(os.environ.get("UPSTREAM_TIMEOUT_SECONDS", "10")),
    )
    app.config.update(config or {})

    setup_telemetry(app, "gateway", __version__)
    add_health_endpoint(app)
    add_json_errors(app)
    app.add_url_rule("/", view_func=iss_distance_from)
    app.register_error_handler(UpstreamError, upstream_error)
    return app


def iss_distance_from():
    timeout = current_app.config["UPSTREAM_TIMEOUT_SECONDS"]
    place = get_json(
        "geolocator",
        current_app.config["GEOLOCATOR_URL"],
        {"location": request.args.get("location", "")},
        timeout,
    )
    try:
        coordinates = {"latitude": place["latitude"], "longitude": place["longitude"]}
    except (KeyError, TypeError):
        raise UpstreamError(502, "The geolocator sent an answer without coordinates.") from None
    iss = get_json(
        "ISS distance service", current_app.config["ISS_DISTANCE_URL"], coordinates, timeout
    )
    return {"place": place, "iss": iss}


def upstream_error(error: UpstreamError):
    return jsonify(error=error.message), error.status
