"""The frontend: a page with a form that asks how far the ISS is from a place.

It calls the gateway, and shows the answer on a small offline map together with the
request's trace id, which a learner can paste into Grafana to find this very request.
"""

import os

from flask import Flask, current_app, render_template, request

from common.http import add_health_endpoint
from common.telemetry import current_trace_id, setup_telemetry
from common.upstream import UpstreamError, get_json
from webapp.answer import Answer

__version__ = "1.0.0"

MAX_LOCATION_LENGTH = 200


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        GATEWAY_URL=os.environ.get("GATEWAY_URL", "http://127.0.0.1:8081"),
        UPSTREAM_TIMEOUT_SECONDS=float(os.environ.get("UPSTREAM_TIMEOUT_SECONDS", "15")),
    )
    app.config.update(config or {})

    setup_telemetry(app, "frontend", __version__)
    add_health_endpoint(app)
    app.add_url_rule("/", view_func=form, methods=["GET"])
    app.add_url_rule("/", view_func=result, methods=["POST"])
    return app


def form():
    return render_template("index.html")


def result():
    location = request.form.get("location", "").strip()
    if not location:
        return page(location, error="Type the name of a place, for example Paris.", status=400)
    if len(location) > MAX_LOCATION_LENGTH:
        error = f"That name is too long: a place name has at most {MAX_LOCATION_LENGTH} characters."
        return page(location[:MAX_LOCATION_LENGTH], error=error, status=400)

    try:
        answer = get_json(
            "gateway",
            current_app.config["GATEWAY_URL"],
            {"location": location},
            current_app.config["UPSTREAM_TIMEOUT_SECONDS"],
        )
        shown = Answer.from_gateway(answer)
    except UpstreamError as failure:
        return page(location, error=failure.message, status=failure.status)
    except (KeyError, TypeError, ValueError):
        return page(location, error="The gateway sent an incomplete answer.", status=502)
    return page(location, answer=shown)


def page(location: str, answer: Answer | None = None, error: str | None = None, status: int = 200):
    # workshop: section 4 >>>
    trace_id = current_trace_id()  # shown under the answer, to look the request up in Grafana
    # workshop: section 4 ===
    # trace_id = None
    # workshop: section 4 <<<
    html = render_template(
        "index.html", location=location, answer=answer, error=error, trace_id=trace_id
    )
    return html, status
