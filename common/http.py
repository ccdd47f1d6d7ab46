"""The HTTP conventions every service follows: a health endpoint, JSON errors, bounded
request sizes, one deadline per request, valid Host headers and security headers."""

import logging
import sys

from flask import Flask, Response, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from common.deadline import BUDGET_HEADER, Deadline
from common.inputs import InvalidInputError
from common.security import SECURITY_HEADERS, valid_host
from common.services import HEALTH_PATH

# Our requests are a short form or a short query string; anything bigger is refused
# before it costs memory. The server (common/server.py) enforces the header limit.
MAX_BODY_BYTES = 16 * 1024
MAX_QUERY_BYTES = 2 * 1024
MAX_HEADER_BYTES = 16 * 1024

# Clearer than the framework's generic descriptions of its own errors.
MESSAGES = {
    400: "The request is malformed.",
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: f"The request body is bigger than {MAX_BODY_BYTES} bytes.",
    431: f"The request headers are bigger than {MAX_HEADER_BYTES} bytes.",
    500: "Something went wrong on our side.",
    505: "Only HTTP/1.0 and HTTP/1.1 are spoken here.",
}
BAD_HOST = "The Host header is not a valid host name."
BAD_QUERY = "The query string is not valid UTF-8."

logger = logging.getLogger(__name__)


def setup_http(app: Flask) -> None:
    """What every service does: a health endpoint, bounded requests, no redirects, a
    deadline for each request, and a guard around it all. (Its errors' format is each
    service's own choice.) Call it after setup_telemetry, so that the guard is outermost."""
    add_health_endpoint(app)
    add_request_limits(app)
    never_redirect(app)
    add_deadline(app)
    guard(app)


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
        return jsonify(error=describe(error)), error.code

    @app.errorhandler(InvalidInputError)
    def invalid_input(error: InvalidInputError):
        return jsonify(error=str(error)), 400


def describe(error: HTTPException) -> str:
    """The error's own message, or ours instead of the framework's generic one."""
    if error.description == type(error).description:
        return MESSAGES.get(error.code, error.description)
    return error.description


def add_request_limits(app: Flask) -> None:
    """Refuse a body or a query string bigger than any real request, with 413 or 414."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.before_request
    def refuse_long_query_strings():
        if len(request.query_string) > MAX_QUERY_BYTES:
            abort(414, f"The query string is longer than {MAX_QUERY_BYTES} bytes.")


def never_redirect(app: Flask) -> None:
    """Answer "//" or "/path/" with a 404, not a redirect: Werkzeug builds its routing
    redirects from the request's Host header, which the client chooses."""
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False


def add_deadline(app: Flask) -> None:
    """Give each request a deadline: the caller's budget, at most REQUEST_BUDGET_SECONDS."""

    @app.before_request
    def start_the_clock():
        own_budget = app.config["REQUEST_BUDGET_SECONDS"]
        g.deadline = Deadline.from_header(request.headers.get(BUDGET_HEADER), own_budget)


def request_deadline() -> Deadline:
    return g.deadline


def guard(app: Flask) -> None:
    """Wrap the app's WSGI entry point, outside its instrumentation: a request that
    Werkzeug or the instrumentation cannot decode gets a 400, every answer gets the
    security headers, and a crash outside the app's own error handling a 500 in the
    service's format (waitress's own would be text, without the headers)."""
    inner = app.wsgi_app

    def guarded(environ, start_response):
        def secure(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            headers.extend((n, v) for n, v in SECURITY_HEADERS.items() if n.lower() not in present)
            return start_response(status, headers, exc_info)

        if refused := refusal(environ):
            return error_response(app, 400, refused)(environ, secure)
        try:
            return inner(environ, secure)
        except Exception:
            logger.exception("Unexpected error in %s", environ.get("PATH_INFO"))
            crash = sys.exc_info()
            return error_response(app, 500)(environ, lambda s, h, _=None: secure(s, h, crash))

    app.wsgi_app = guarded


def refusal(environ: dict) -> str | None:
    """Why a request cannot reach the app, or None. Werkzeug raises on a query string of
    bytes that are not UTF-8 (request.args), and the instrumentation on a Host header
    that does not decode (request.url): both would be 500s."""
    if not valid_host(environ.get("HTTP_HOST", "")):
        return BAD_HOST
    try:
        environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return BAD_QUERY
    return None


def error_response(app: Flask, code: int, description: str | None = None) -> Response:
    """The application's answer to an HTTP error, outside of any request."""
    error = default_exceptions.get(code, InternalServerError)(description)
    with app.test_request_context():
        return app.make_response(app.handle_user_exception(error))
