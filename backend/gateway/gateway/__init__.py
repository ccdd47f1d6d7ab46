"""The gateway: the one backend the frontend talks to.

    GET /?location=Paris  ->  {"place": {...from the geolocator...},
                               "iss": {...from the ISS distance service...}}

It asks the geolocator where the place is, then the ISS distance service how far the
ISS is from there, both within the request's deadline. Their bad-input errors (400,
404) are passed on; a service that is down or answers nonsense becomes a 502, and one
that is too slow a 504 that names it.
"""

from flask import Flask, current_app, jsonify, request

from common import settings
from common.contracts import check_iss, check_place
from common.http import add_json_errors, request_deadline, setup_http
from common.inputs import plain_decimal
from common.telemetry import setup_telemetry
from common.upstream import UpstreamError, get_json

__version__ = "1.0.0"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    # GEOLOCATOR_URL, ISS_DISTANCE_URL, and REQUEST_BUDGET_SECONDS: at most this long per
    # request, less when the frontend has less time left.
    app.config.from_mapping(settings.for_service("gateway"))
    app.config.update(config or {})

    setup_telemetry(app, "gateway", __version__)
    setup_http(app)
    add_json_errors(app)
    app.add_url_rule("/", view_func=iss_distance_from)
    app.register_error_handler(UpstreamError, upstream_error)
    return app


def iss_distance_from():
    location = {"location": request.args.get("location", "")}
    place = ask("geolocator", "GEOLOCATOR_URL", location, check_place)
    coordinates = {axis: plain_decimal(place[axis]) for axis in ("latitude", "longitude")}
    iss = ask("ISS distance service", "ISS_DISTANCE_URL", coordinates, check_iss)
    return {"place": place, "iss": iss}


def ask(service: str, url_setting: str, params: dict, contract) -> dict:
    url = current_app.config[url_setting]
    return get_json(service, url, params, request_deadline(), contract)


def upstream_error(error: UpstreamError):
    return jsonify(error=error.message), error.status
