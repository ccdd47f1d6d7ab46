"""The ISS distance service: how far is the International Space Station from a point?

    GET /?latitude=48.85&longitude=2.35
        ->  {"distance": 1234.5, "location": {"latitude": .., "longitude": ..},
             "source": "sgp4", "time": "2026-11-21T22:30:00+00:00", "tle_age_days": 69}

`distance` is in kilometres along the Earth's surface to the point below the ISS, and
`location` is that point. `source` says where the position came from: "api" (live) or
"sgp4" (computed offline from orbital elements `tle_age_days` days old).
"""

from pathlib import Path

from flask import Flask, current_app, g, request
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE

from common import faults, inputs, settings
from common.http import add_json_errors, request_deadline, setup_http
from common.services import HEALTH_PATH
from common.telemetry import setup_telemetry
from iss_distance.geodesy import surface_distance_km
from iss_distance.orbit import DEFAULT_TLE_PATH, Orbit
from iss_distance.position import IssTracker
from iss_distance.position_api import DEFAULT_API_URL
from iss_distance.telemetry import SOURCE, incoming_requests, tracer

__version__ = "1.0.0"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        # REQUEST_BUDGET_SECONDS: at most this long per request, less when the gateway
        # has less time left.
        settings.for_service("iss-distance-service"),
        OFFLINE=settings.flag("OFFLINE"),
        ISS_API_URL=settings.text("ISS_API_URL", DEFAULT_API_URL),
        ISS_API_TIMEOUT_SECONDS=settings.number("ISS_API_TIMEOUT_SECONDS", 2),
        ISS_TLE_PATH=settings.text("ISS_TLE_PATH", str(DEFAULT_TLE_PATH)),
    )
    app.config.update(config or {})

    setup_telemetry(app, "iss-distance-service", __version__)
    setup_http(app)
    add_json_errors(app)
    app.extensions["iss_tracker"] = IssTracker(
        Orbit.from_file(Path(app.config["ISS_TLE_PATH"])),
        online=not app.config["OFFLINE"],
        api_url=app.config["ISS_API_URL"],
        timeout=app.config["ISS_API_TIMEOUT_SECONDS"],
    )
    faults.watch()  # the flags that switch faults on (section 8)
    app.add_url_rule("/", view_func=distance)
    app.after_request(count_request)
    return app


def distance():
    latitude = inputs.coordinate(request.args.get("latitude", ""), "latitude", 90)
    longitude = inputs.coordinate(request.args.get("longitude", ""), "longitude", 180)

    iss = current_app.extensions["iss_tracker"].position(request_deadline())
    g.iss_source = iss.source  # for count_request
    with tracer.start_as_current_span("iss.distance"):
        km = surface_distance_km(latitude, longitude, iss.latitude, iss.longitude)
    answer = {
        "distance": round(km, 1),
        "location": {"latitude": iss.latitude, "longitude": iss.longitude},
        "source": iss.source,
        "time": iss.time.isoformat(),
    }
    if iss.tle_age_days is not None:
        answer["tle_age_days"] = iss.tle_age_days
    return answer


def count_request(response):
    if request.path == HEALTH_PATH:
        return response
    attributes = {HTTP_RESPONSE_STATUS_CODE: response.status_code}
    if "iss_source" in g:
        attributes[SOURCE] = g.iss_source
    incoming_requests.add(1, attributes)
    return response
