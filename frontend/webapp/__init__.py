"""The frontend: a page with a form that asks how far the ISS is from a place.

It calls the gateway, and shows the answer on a small offline map together with the
request's trace id: a link to this very request's trace in Grafana's Explore or Zipkin,
wherever TRACE_UI_URL says. Every error, the server's and the framework's included, is
shown on the same page.
"""

from urllib.parse import quote

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from common import inputs, settings
from common.contracts import check_gateway_answer
from common.http import describe, request_deadline, setup_http
from common.telemetry import current_trace_id, setup_telemetry
from common.upstream import UpstreamError, get_json
from webapp.answer import Answer
from webapp.edge import protect_the_edge

__version__ = "1.0.0"


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        # GATEWAY_URL, and REQUEST_BUDGET_SECONDS: the most a form submission may take,
        # the backends' calls included.
        settings.for_service("frontend"),
        # Continue the traces that requests bring, behind a proxy you trust (webapp/edge.py).
        TRUST_INCOMING_TRACE_CONTEXT=settings.flag("TRUST_INCOMING_TRACE_CONTEXT"),
        # Where a trace can be seen, "{trace_id}" standing for its id, and the tool's name:
        # the page links its trace id there. Docker Compose sets Grafana's Explore,
        # `make run` Zipkin (or, without Java, Jaeger's API): workshop/look_at.py; in a
        # room, the room's address (workshop/room_address.py).
        TRACE_UI_URL=settings.text("TRACE_UI_URL", ""),
        TRACE_UI_NAME=settings.text("TRACE_UI_NAME", "the trace UI"),
    )
    app.config.update(config or {})

    setup_telemetry(app, "frontend", __version__)
    # The public edge: no trace context, baggage or budget from the internet.
    protect_the_edge(app, trust_trace_context=app.config["TRUST_INCOMING_TRACE_CONTEXT"])
    setup_http(app)
    app.register_error_handler(HTTPException, error_page)
    app.add_url_rule("/", view_func=form, methods=["GET"])
    app.add_url_rule("/", view_func=result, methods=["POST"])
    return app


def form():
    return render_template("index.html")


def result():
    submitted = request.form.get("location", "")
    shown = inputs.shown(submitted)
    try:
        location = inputs.place_name(submitted)
        answer = get_json(
            "gateway",
            current_app.config["GATEWAY_URL"],
            {"location": location},
            request_deadline(),
            check_gateway_answer,
        )
    except inputs.InvalidInputError as error:
        return page(shown, error=str(error), status=400)
    except UpstreamError as failure:
        return page(shown, error=failure.message, status=failure.status)
    return page(location, answer=Answer.from_gateway(answer))


def error_page(error: HTTPException):
    return page("", error=describe(error), status=error.code)


def page(location: str, answer: Answer | None = None, error: str | None = None, status: int = 200):
    trace_id = current_trace_id()  # shown under the answer, to look the request up in Grafana
    html = render_template(
        "index.html",
        location=location,
        answer=answer,
        error=error,
        trace_id=trace_id,
        trace_url=trace_link(trace_id),
        trace_ui=current_app.config["TRACE_UI_NAME"],
    )
    return html, status


def trace_link(trace_id: str | None) -> str | None:
    """Where the page links its trace id: TRACE_UI_URL with the id in it, if it is set.

    The address is ours (the setting) and so is the id (this request's trace, never the
    client's): only a web address is linked, and characters a URL may not hold, such as
    the quotes and braces of Grafana's Explore state, are percent-encoded.
    """
    template = current_app.config["TRACE_UI_URL"]
    if not trace_id or not template.startswith(("http://", "https://")):
        return None
    return quote(template.replace("{trace_id}", trace_id), safe=URL_CHARACTERS)


# What a URL holds as it is (RFC 3986's reserved and unreserved characters, and '%').
URL_CHARACTERS = ":/?#[]@!$&'()*+,;=%-._~"
