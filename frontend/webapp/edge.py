"""The public edge: the frontend answers the internet, so it does not trust the headers
that only our own services send one another.

The OpenTelemetry specification advises a public endpoint not to continue a trace from
the internet. A client's `traceparent` would put our spans in the client's trace, or,
with a sampled flag of 00, switch tracing off for its request; its `baggage` would
travel through every service. So for each request the frontend:

- starts a new trace, and keeps the client's trace context, when it is valid, as a
  link on its server span, where a trace viewer shows it;
- drops the client's baggage;
- ignores X-Request-Budget-Ms: its own budget starts the clock (common/deadline.py).

Behind a proxy that you trust, and that starts the traces itself, set
TRUST_INCOMING_TRACE_CONTEXT=true: the frontend then continues the trace and keeps the
baggage, as the backends always do. It never trusts a budget.
"""

from flask import Flask, request
from opentelemetry import propagate, trace

from common.deadline import BUDGET_HEADER

TRACE_CONTEXT_HEADERS = ("traceparent", "tracestate", "baggage")
# Where the client's trace context goes once taken away, for the link.
CLIENT_TRACE_CONTEXT = "webapp.edge.client_trace_context"


def environ_key(header: str) -> str:
    """Where WSGI keeps a request header: X-Request-Budget-Ms in HTTP_X_REQUEST_BUDGET_MS."""
    return "HTTP_" + header.upper().replace("-", "_")


def protect_the_edge(app: Flask, trust_trace_context: bool) -> None:
    """Call it after setup_telemetry: the headers must be gone before the Flask
    instrumentation looks for them, and the link needs its server span."""
    untrusted = () if trust_trace_context else TRACE_CONTEXT_HEADERS
    inner = app.wsgi_app

    def without_untrusted_headers(environ, start_response):
        environ.pop(environ_key(BUDGET_HEADER), None)
        environ[CLIENT_TRACE_CONTEXT] = {
            header: environ.pop(environ_key(header))
            for header in untrusted
            if environ_key(header) in environ
        }
        return inner(environ, start_response)

    app.wsgi_app = without_untrusted_headers

    @app.before_request
    def link_to_the_client():
        link_to_the_clients_trace(request.environ[CLIENT_TRACE_CONTEXT])


def link_to_the_clients_trace(client_headers: dict[str, str]) -> None:
    """Keep the client's trace context, when it is valid, as a link on the server span."""
    client = trace.get_current_span(propagate.extract(client_headers)).get_span_context()
    if client.is_valid:
        trace.get_current_span().add_link(client)
