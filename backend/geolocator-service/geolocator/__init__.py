"""The geolocator service: place name in, coordinates out.

GET /?location=Paris   ->  {"name": "Paris, France", "latitude": 48.85, "longitude": 2.35,
                            "source": "gazetteer"}
"""

import functools
import os

from flask import Flask, abort, current_app, request

from common import faults
from common.http import add_health_endpoint, add_json_errors
from common.telemetry import setup_telemetry
from geolocator.gazetteer import Gazetteer
from geolocator.geocoding import Geocoder

__version__ = "1.0.0"

MAX_LOCATION_LENGTH = 200


@functools.cache
def load_gazetteer() -> Gazetteer:
    # About a second and 100 MB to build: build it once per process.
    return Gazetteer()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        OFFLINE=os.environ.get("OFFLINE", "false").lower() == "true",
        NOMINATIM_DOMAIN=os.environ.get("NOMINATIM_DOMAIN", "nominatim.openstreetmap.org"),
        NOMINATIM_SCHEME=os.environ.get("NOMINATIM_SCHEME", "https"),
        NOMINATIM_TIMEOUT_SECONDS=float(os.environ.get("NOMINATIM_TIMEOUT_SECONDS", "3")),
        FAULTS=faults.from_environment(),
    )
    app.config.update(config or {})

    setup_telemetry(app, "geolocator-service", __version__)
    add_health_endpoint(app)
    add_json_errors(app)
    app.extensions["geocoder"] = Geocoder(
        load_gazetteer(),
        online=not app.config["OFFLINE"],
        nominatim_domain=app.config["NOMINATIM_DOMAIN"],
        nominatim_scheme=app.config["NOMINATIM_SCHEME"],
        timeout=app.config["NOMINATIM_TIMEOUT_SECONDS"],
    )
    app.add_url_rule("/", view_func=locate)
    return app


def locate():
    location = request.args.get("location", "").strip()
    if not location:
        abort(400, "Give a place name, for example ?location=Paris.")
    if len(location) > MAX_LOCATION_LENGTH:
        abort(400, f"A place name has at most {MAX_LOCATION_LENGTH} characters.")

    faults.delay(current_app.config["FAULTS"], "slow-geocoder", 2.0)
    place = current_app.extensions["geocoder"].locate(location)
    if place is None:
        abort(404, "No place of that name is known.")
    return {
        "name": place.name,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "source": place.source,
    }
