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
from opentelemetry.instrumentation.wsgi import wsgi_getter

from common.deadline import BUDGET_HEADER


def environ_key(header: str) -> str:
    """Where WSGI keeps a request header: X-Request-Budget-Ms in HTTP_X_REQUEST_BUDGET_MS."""
    return "HTTP_" + header.upper().replace("-", "_")


TRACE_CONTEXT_KEYS = [environ_key(header) for header in ("traceparent", "tracestate", "baggage")]
BUDGET_KEY = environ_key(BUDGET_HEADER)
# Where the headers taken away are kept, for the link to the client's trace.
CLIENT_HEADERS = "webapp.edge.client_headers"


def protect_the_edge(app: Flask, trust_trace_context: bool) -> None:
    """Call it after setup_telemetry: the headers must be gone before the Flask
    instrumentation looks for them, and the link needs its server span."""
    untrusted = [BUDGET_KEY] if trust_trace_context else [BUDGET_KEY, *TRACE_CONTEXT_KEYS]
    inner = app.wsgi_app

    def without_untrusted_headers(environ, start_response):
        environ[CLIENT_HEADERS] = {key: environ.pop(key) for key in untrusted if key in environ}
        return inner(environ, start_response)

    app.wsgi_app = without_untrusted_headers
    if not trust_trace_context:
        app.before_request(link_to_the_clients_trace)


def link_to_the_clients_trace() -> None:
    """Record the client's trace context, when valid, as a link on the server span.

    The propagator reads the headers taken away just as the instrumentation would have.
    """
    client_context = propagate.extract(request.environ[CLIENT_HEADERS], getter=wsgi_getter)
    client_span = trace.get_current_span(client_context).get_span_context()
    if client_span.is_valid:
        trace.get_current_span().add_link(client_span)
