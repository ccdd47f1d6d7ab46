"""The geolocator service: place name in, coordinates out.

GET /?location=Paris   ->  {"name": "Paris, France", "latitude": 48.85, "longitude": 2.35,
                            "source": "gazetteer"}
"""

import functools

from flask import Flask, abort, current_app, request

from common import faults, inputs, settings
from common.http import add_json_errors, request_deadline, setup_http
from common.telemetry import setup_telemetry
from geolocator import gazetteer
from geolocator.geocoding import Geocoder

__version__ = "1.0.0"


@functools.cache
def load_gazetteer() -> gazetteer.Gazetteer:
    # One connection to the index per process, shared by every app and thread.
    return gazetteer.load()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        # REQUEST_BUDGET_SECONDS: at most this long per request, less when the gateway
        # has less time left.
        settings.for_service("geolocator-service"),
        OFFLINE=settings.flag("OFFLINE"),
        NOMINATIM_DOMAIN=settings.text("NOMINATIM_DOMAIN", "nominatim.openstreetmap.org"),
        NOMINATIM_SCHEME=settings.text("NOMINATIM_SCHEME", "https"),
        NOMINATIM_TIMEOUT_SECONDS=settings.number("NOMINATIM_TIMEOUT_SECONDS", 3),
    )
    app.config.update(config or {})

    setup_telemetry(app, "geolocator-service", __version__)
    setup_http(app)
    add_json_errors(app)
    app.extensions["geocoder"] = Geocoder(
        load_gazetteer(),
        online=not app.config["OFFLINE"],
        nominatim_domain=app.config["NOMINATIM_DOMAIN"],
        nominatim_scheme=app.config["NOMINATIM_SCHEME"],
        timeout=app.config["NOMINATIM_TIMEOUT_SECONDS"],
    )
    faults.watch()  # the flags that switch faults on (section 8)
    app.add_url_rule("/", view_func=locate)
    return app


def locate():
    location = inputs.place_name(request.args.get("location", ""))

    faults.delay("slow-geocoder", 2.0)  # off unless switched on (section 8)
    place = current_app.extensions["geocoder"].locate(location, request_deadline().remaining())
    if place is None:
        abort(404, "No place of that name is known.")
    return {
        "name": place.name,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "source": place.source,
    }
